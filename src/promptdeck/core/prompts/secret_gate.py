"""No secret goes out: a version holding a credential is not approved, labelled or exported.

``promptdeck prompts lint`` reports a secret in a prompt file as an error; the same
scanner (:func:`promptdeck.core.guardrails.secrets.find_secrets`: ``sk-…``, AWS,
GitHub, Slack, private keys, passwords in URLs…) runs on a version's stored content
before it is approved, before a label moves to it and before it is exported, and
refuses in one line naming the version and the kind of secret, never the secret.
"""

from __future__ import annotations

from promptdeck.core.prompts.refs import ResolvedPrompt
from promptdeck.errors import UsageError

__all__ = ["SecretInPromptError", "refuse_secrets", "secret_kinds"]


class SecretInPromptError(UsageError):
    """A prompt version holds a credential: it cannot be approved, labelled or exported."""


def secret_kinds(content: str) -> list[str]:
    """The kinds of credential in a version's content, each once, in order of appearance."""
    from promptdeck.core.guardrails.secrets import find_secrets

    return list(dict.fromkeys(span.type for span in find_secrets(content)))


def refuse_secrets(target: ResolvedPrompt, action: str) -> None:
    """Raise if the version holds a credential.

    Args:
        target: The version.
        action: What was asked, for the message (``approved``, ``labelled``, ``exported``).

    Raises:
        SecretInPromptError: The version's content holds a secret (exit 2).
    """
    kinds = secret_kinds(target.content)
    if kinds:
        raise SecretInPromptError(
            f"{target.name}@{target.version} contains a secret ({', '.join(kinds)}); "
            f"it cannot be {action}",
            f"remove it from the prompt file, rotate the key, and use the new version "
            f"(`promptdeck prompts lint {target.name}` shows where)",
        )
