"""Model providers. Each heavy library (litellm, llama_cpp) is imported only inside its adapter."""
