"""Reading a model call out of the attributes and events each instrumentation writes."""

from __future__ import annotations

import json

from promptdeck.core.collect.genai import read_llm_call


def test_gen_ai_attribute_form_with_system_instructions() -> None:
    call = read_llm_call(
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
            ),
            "gen_ai.output.messages": json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": "Hello"}],
                        "finish_reason": "length",
                    }
                ]
            ),
            "gen_ai.usage.input_tokens": 5,
            "gen_ai.usage.output_tokens": 1,
            "gen_ai.request.temperature": 0.2,
        },
        [],
    )
    assert call is not None
    assert call.model == "gpt-4o-2024-08-06"
    assert call.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert (call.output, call.finish_reason, call.tokens) == ("Hello", "length", 6)
    assert call.params == {"temperature": 0.2}


def test_older_event_forms() -> None:
    events = [
        {"name": "gen_ai.system.message", "time_ns": 1, "attributes": {"content": "Sys"}},
        {"name": "gen_ai.user.message", "time_ns": 2, "attributes": {"content": "Q?"}},
        {
            "name": "gen_ai.choice",
            "time_ns": 3,
            "attributes": {
                "index": 0,
                "finish_reason": "stop",
                "message": json.dumps({"role": "assistant", "content": "A."}),
            },
        },
    ]
    call = read_llm_call({"gen_ai.system": "openai", "gen_ai.request.model": "m"}, events)
    assert call is not None
    assert call.messages == [
        {"role": "system", "content": "Sys"},
        {"role": "user", "content": "Q?"},
    ]
    assert (call.output, call.finish_reason) == ("A.", "stop")
    oldest = [
        {
            "name": "gen_ai.content.prompt",
            "time_ns": 1,
            "attributes": {"gen_ai.prompt": json.dumps([{"role": "user", "content": "P"}])},
        },
        {
            "name": "gen_ai.content.completion",
            "time_ns": 2,
            "attributes": {
                "gen_ai.completion": json.dumps([{"role": "assistant", "content": "C"}])
            },
        },
    ]
    call = read_llm_call({"gen_ai.request.model": "m"}, oldest)
    assert call is not None and call.messages == [{"role": "user", "content": "P"}]
    assert call.output == "C"


def test_openllmetry_indexed_attributes() -> None:
    call = read_llm_call(
        {
            "gen_ai.system": "OpenAI",
            "llm.request.type": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "You help.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Refund?",
            "gen_ai.prompt.10.role": "user",
            "gen_ai.prompt.10.content": "eleventh",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Sure.",
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.usage.prompt_tokens": 20,
            "gen_ai.usage.completion_tokens": 2,
            "llm.usage.total_tokens": 22,
        },
        [],
    )
    assert call is not None
    assert [m["content"] for m in call.messages] == ["You help.", "Refund?", "eleventh"]
    assert (call.output, call.finish_reason, call.tokens) == ("Sure.", "stop", 22)
    older = read_llm_call(
        {
            "llm.request.model": "davinci",
            "llm.prompts.0.content": "x",
            "llm.completions.0.content": "y",
        },
        [],
    )
    assert older is not None
    assert (older.model, older.messages, older.output) == (
        "davinci",
        [{"role": "user", "content": "x"}],
        "y",
    )


def test_openinference_attributes_and_values() -> None:
    call = read_llm_call(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "claude-3-5",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.contents.0.message_content.type": "text",
            "llm.input_messages.0.message.contents.0.message_content.text": "parts!",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "done",
            "llm.token_count.prompt": 7,
            "llm.token_count.completion": 2,
            "llm.invocation_parameters": json.dumps({"temperature": 0.5}),
            "llm.prompt_template.variables": json.dumps({"ticket": "late parcel"}),
        },
        [],
    )
    assert call is not None
    assert call.messages == [{"role": "user", "content": "parts!"}]
    assert (call.output, call.tokens, call.params) == ("done", 9, {"temperature": 0.5})
    assert call.variables == {"ticket": "late parcel"}
    chain = read_llm_call(
        {"openinference.span.kind": "LLM", "input.value": "question", "output.value": "answer"},
        [],
    )
    assert chain is not None
    assert (chain.messages, chain.output) == ([{"role": "user", "content": "question"}], "answer")


def test_a_span_that_is_not_a_model_call() -> None:
    assert read_llm_call({"http.method": "GET", "db.system": "sqlite"}, []) is None
    assert read_llm_call({}, [{"name": "exception", "time_ns": 1, "attributes": {}}]) is None


def test_a_promptdeck_prompt_and_its_variables() -> None:
    call = read_llm_call(
        {
            "gen_ai.request.model": "m",
            "promptdeck.prompt.name": "classify-ticket",
            "promptdeck.prompt.variables": json.dumps({"ticket": "I was charged twice"}),
        },
        [],
    )
    assert call is not None
    assert (call.prompt_name, call.variables) == (
        "classify-ticket",
        {"ticket": "I was charged twice"},
    )


def test_hostile_values_do_not_break_the_reader() -> None:
    call = read_llm_call(
        {
            "gen_ai.request.model": 42,
            "gen_ai.input.messages": "{not json",
            "gen_ai.output.messages": json.dumps([]),
            "gen_ai.usage.input_tokens": "many",
            "gen_ai.response.finish_reasons": [],
        },
        [{"name": "gen_ai.choice", "time_ns": 0, "attributes": {}}],
    )
    assert call is not None
    assert call.model == "42" and call.input_tokens is None and call.finish_reason is None
    assert call.messages == [{"role": "user", "content": "{not json"}]
