"""``promptdeck collect``: receive OpenTelemetry traces (OTLP/HTTP) into the workspace."""

from __future__ import annotations

import ipaddress

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.errors import UsageError

__all__ = ["collect"]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4318,
    show_default=True,
    help="Port to listen on (OTLP/HTTP's default; 0 picks a free one).",
)
@click.option(
    "--token",
    envvar="PROMPTDECK_COLLECT_TOKEN",
    help="Require `Authorization: Bearer TOKEN` on every request (also "
    "$PROMPTDECK_COLLECT_TOKEN). Required to listen beyond this machine.",
)
@click.pass_obj
def collect(options: Options, host: str, port: int, token: str | None) -> None:
    """Receive traces from your application (OTLP/HTTP: POST /v1/traces).

    Point an OpenTelemetry exporter at http://HOST:PORT/v1/traces (protobuf or JSON,
    gzip or not). Spans following the GenAI conventions (gen_ai.*), OpenLLMetry or
    OpenInference become traces with their model, messages, answer and usage; other
    spans are kept with their attributes. They appear on the Traces screen and in
    `traces list --source otlp`. Ctrl+C stops.
    """
    if not _loopback(host) and not token:
        raise UsageError(
            f"--host {host} listens beyond this machine without a token",
            "add --token (clients send `Authorization: Bearer TOKEN`), or keep 127.0.0.1",
        )
    from promptdeck.cli.aio import run_interruptibly
    from promptdeck.core.collect.server import Collector, serve

    workspace = open_workspace(options, sync=False)
    collector = Collector(workspace.session, token=token)

    def ready(bound: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"Collecting traces on http://{shown}:{bound}/v1/traces", err=True)

    try:
        run_interruptibly(serve(collector, host, port, ready=ready))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        raise UsageError(
            f"cannot listen on {host}:{port} ({error.strerror or error})",
            "choose another --port (or stop what uses it)",
        ) from error
    finally:
        collector.close()
        workspace.close()
    stats = collector.stats
    click.echo(
        f"Received {stats.spans} spans in {stats.requests} requests"
        + (f" ({stats.rejected} left out)" if stats.rejected else ""),
        err=True,
    )
