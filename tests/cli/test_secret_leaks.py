"""A key never leaves the process: not in the workspace, a report, an export or a printed line.

An alias reads its key from ``LEAKY_KEY`` (a name no pattern would call secret);
one loopback server answers 401 with a body that echoes the key (raw, inside a URL,
percent-encoded and base64 in a ``Basic`` header echo); another answers 200 with
the key in the answer itself. After ``run``, ``eval`` (every report format),
``compare`` (every format), ``traces`` (list, show, OTLP export) and ``eval show``,
nothing in the workspace folder (``workspace.db`` bytes included), the reports or
the captured output holds the key in any of those forms.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import run_cli
from tests.stub_openai import Reply, StubServer, stub_server

KEY = "pd-LEAK-7f3a9c2e41b8d6f05a1e-zz"
"""The key: no ``sk-`` prefix, held by a variable whose name says nothing."""


def _forms(key: str) -> list[bytes]:
    """The key as bytes, and the encoded forms a leak could take."""
    forms = [key, quote(key, safe=""), json.dumps(key)[1:-1], key[:16], key[-16:]]
    for user in ("", "u:", "ab:", "abc:"):
        whole = base64.b64encode(f"{user}{key}".encode()).decode()
        forms.append(whole[len(user) // 3 * 4 + 4 : -4])
    return [f.encode() for f in forms if len(f) >= 12]


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    """(a base URL answering 401 that echoes the key, one answering 200 with the key)."""
    basic = base64.b64encode(f"user:{KEY}".encode()).decode()
    echo = (
        f"Incorrect API key provided: {KEY}. Request https://api.test/v1?key={quote(KEY)} "
        f"with headers {{'Authorization': 'Basic {basic}'}}"
    )
    unauthorized = StubServer(
        default=Reply(status=401, body=json.dumps({"error": {"message": echo}}))
    )
    hostile = StubServer(default=Reply(text=f"Your key is {KEY} and {basic}"))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    bases: list[str] = []

    async def serve() -> None:
        async with stub_server(unauthorized) as one, stub_server(hostile) as two:
            bases.extend([one.base, two.base])
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield bases[0], bases[1]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


SUITE = """\
prompts: [summarize]
models: [leaky, echo]
cases:
  - description: a case
    vars: {text: Cats nap all day.}
    assert: [{type: contains, value: cat}]
"""


def test_no_key_anywhere_after_every_command(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    servers: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEAKY_KEY", KEY)
    root = tmp_path / "w"
    run_cli(capsys, "init", str(root))
    config = root / "promptdeck.toml"
    config.write_text(
        config.read_text().replace("max_retries = 3", "max_retries = 0")
        + "".join(
            f'\n[models.{name}]\nmodel = "openai/{name}"\napi_base = "{base}"\n'
            'api_key_env = "LEAKY_KEY"\n'
            for name, base in zip(("leaky", "echo"), servers, strict=True)
        )
    )
    (root / "suites" / "leak.suite.yaml").write_text(SUITE)
    reports = tmp_path / "reports"
    ws = ["--headless", "--workspace", str(root)]
    outputs: list[str] = []

    def pd(*args: str) -> int:
        code, out, err = run_cli(capsys, *ws, *args)
        outputs.extend([out, err])
        return code

    for model in ("leaky", "echo"):
        pd("run", "summarize", "-m", model, "-v", "text=hi")
        pd("run", "summarize", "-m", model, "-v", "text=hi", "--json")
        pd("run", "summarize", "-m", model, "-v", "text=hi", "--stream", "--cache", "off")
    pd(
        "eval",
        "run",
        "leak",
        "--junit",
        str(reports / "r.xml"),
        "--json",
        str(reports / "r.json"),
        "--jsonl",
        str(reports / "r.jsonl"),
        "--markdown",
        str(reports / "r.md"),
    )
    for fmt in ("text", "json", "markdown"):
        pd("compare", "summarize", "-m", "leaky", "-m", "echo", "-v", "text=yo", "--format", fmt)
    pd("traces", "list")
    _, out, _ = run_cli(capsys, *ws, "traces", "list", "--json")
    outputs.append(out)
    for trace in json.loads(out)[:6]:
        pd("traces", "show", trace["id"])
    pd("traces", "export", "-o", str(reports / "otlp.json"))
    _, out, _ = run_cli(capsys, *ws, "eval", "list", "--json")
    outputs.append(out)
    run_id = json.loads(out)[0]["id"]
    pd("eval", "show", run_id)
    pd("eval", "show", run_id, "--json")

    # The calls did happen: the failures and the answers are there, without the key.
    assert (reports / "r.jsonl").read_text().count('"status":"error"') == 1
    assert "Your key is ***" in (reports / "r.jsonl").read_text()
    assert "Incorrect API key provided: ***" in (reports / "r.md").read_text()
    files = [p for p in [*root.rglob("*"), *reports.rglob("*")] if p.is_file()]
    assert any(p.name == "workspace.db" for p in files)
    leaks = [
        (str(place), form)
        for form in _forms(KEY)
        for place, data in [
            *((p, p.read_bytes()) for p in files),
            *((f"output {i}", o.encode()) for i, o in enumerate(outputs)),
        ]
        if form in data
    ]
    assert leaks == []


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_a_key_streamed_in_pieces_is_never_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, size: int
) -> None:
    """The model echoes the key cut across deltas: ``run --stream`` shows none of it."""
    from tests.stub_openai import run_stub_in_thread

    with run_stub_in_thread(StubServer(default=Reply(text=f"Sure: {KEY} ok", chunk=size))) as base:
        root = tmp_path / "w"
        run_cli(capsys, "init", str(root))
        config = root / "promptdeck.toml"
        config.write_text(
            config.read_text() + f'\n[models.echo]\nmodel = "openai/echo"\napi_base = "{base}"\n'
            'api_key_env = "LEAKY_KEY"\n'
        )
        ws = ["--headless", "--workspace", str(root)]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LEAKY_KEY", KEY)
            code, out, err = run_cli(
                capsys, *ws, "run", "summarize", "-m", "echo", "-v", "text=hi", "--stream"
            )
    assert code == 0, err
    assert "Sure: *** ok" in out
    for form in _forms(KEY):
        assert form.decode() not in out + err
