"""The `trustdesk` command line: thin wrappers over plain functions in models/.

Other tools parse `classify` output, so its contract is stable: one JSON line
out per non-blank input line, in order; a bad line becomes {"line", "error"}
and the run goes on; the exit status is 1 when any line was bad.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Iterator

import click

BATCH = 256


def _parse_thresholds(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in values:
        name, _, raw = item.partition("=")
        try:
            value = float(raw)
        except ValueError:
            raise click.BadParameter(f"{item!r}: expected LABEL=NUMBER, e.g. blame=0.6") from None
        if not 0.0 <= value <= 1.0:
            raise click.BadParameter(f"{item!r}: a threshold is a probability between 0 and 1")
        out[name.strip()] = value
    return out


def _load_analyzer(model: str | None, thresholds: dict[str, float]):
    from models.predict import Analyzer
    from models.store import ModelError

    try:
        analyzer = Analyzer.load(model)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    unknown = set(thresholds) - set(analyzer.thresholds)
    if unknown:
        raise click.BadParameter(f"unknown label(s) {sorted(unknown)}; known: {sorted(analyzer.thresholds)}")
    analyzer.thresholds.update(thresholds)
    return analyzer


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """Non-blank lines with their numbers; None for a line that is not valid UTF-8."""
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if line.strip():
            yield number, line


def run_lines(stream: IO[bytes], out: IO[str], handle, batch: int) -> int:
    """Apply `handle` (a list of tickets -> list of results) to JSON Lines; returns the bad-line count."""
    from models.ticket import TicketError, load_ticket

    bad = 0
    pending: list[tuple[int, object]] = []

    def flush() -> None:
        good = [(n, t) for n, t in pending if not isinstance(t, str)]
        results = iter(handle([t for _, t in good]) if good else [])
        for n, item in pending:
            record = {"line": n, "error": item} if isinstance(item, str) else next(results)
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        out.flush()
        pending.clear()

    for number, line in _numbered_lines(stream):
        try:
            if line is None:
                raise TicketError("line is not valid UTF-8")
            ticket = load_ticket(json.loads(line))
        except json.JSONDecodeError as exc:
            ticket, bad = f"invalid JSON: {exc.msg} at column {exc.colno}", bad + 1
        except TicketError as exc:
            ticket, bad = str(exc), bad + 1
        pending.append((number, ticket))
        if len(pending) >= batch:
            flush()
    flush()
    return bad


def _open_input(path: str):
    if path == "-":
        return sys.stdin.buffer, 1  # answer each line as it comes: callers may wait for it
    try:
        return open(path, "rb"), BATCH
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


def _run_file(path: str, handle) -> None:
    """Run a JSON Lines command over a file or stdin and exit 1 if any line was bad."""
    stream, batch = _open_input(path)
    try:
        bad = run_lines(stream, sys.stdout, handle, batch)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    sys.exit(1 if bad else 0)


@click.group()
@click.version_option(package_name="trustdesk")
def main() -> None:
    """Trustdesk: blame, deflection and escalation risk in support conversations."""


@main.command()
@click.argument("file", default="-")
@click.option("--model", "model", default=None, help="Model directory (default: the shipped model).")
@click.option("--threshold", "thresholds", multiple=True, metavar="LABEL=P", help="Override a label's threshold.")
def classify(file: str, model: str | None, thresholds: tuple[str, ...]) -> None:
    """Score JSON Lines of normalized tickets from FILE (or - for stdin)."""
    analyzer = _load_analyzer(model, _parse_thresholds(thresholds))
    _run_file(file, analyzer.analyze_many)


@main.command()
@click.argument("file", default="-")
@click.option("--model", "model", default=None, help="Model directory (default: the shipped model).")
@click.option("--playbooks", "playbook_dir", default=None, help="Playbook directory (default: the shipped playbooks).")
@click.option("--threshold", "thresholds", multiple=True, metavar="LABEL=P", help="Override a label's threshold.")
def suggest(file: str, model: str | None, playbook_dir: str | None, thresholds: tuple[str, ...]) -> None:
    """Guidance for JSON Lines of normalized tickets from FILE (or - for stdin)."""
    from guidance import playbooks, partners
    from guidance.engine import Context, guide
    from guidance.llm import ChatBackend, LLMError

    analyzer = _load_analyzer(model, _parse_thresholds(thresholds))
    try:
        ctx = Context(analyzer, playbooks.load_dir(playbook_dir), partners.configured(), ChatBackend.from_env())
    except (playbooks.PlaybookError, LLMError) as exc:
        raise click.ClickException(str(exc)) from None

    def handle(tickets: list[dict]) -> list[dict]:
        return [guide(t, a, ctx) for t, a in zip(tickets, analyzer.analyze_many(tickets))]

    _run_file(file, handle)


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Corpus directory (default: models/data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the shipped model's directory).")
@click.option("--seed", default=0, show_default=True, help="Random seed (same corpus + seed = same model).")
def train(data_dir: Path | None, out_dir: Path | None, seed: int) -> None:
    """Train the classifiers from the corpus and save them with a manifest."""
    from models import corpus, store
    from models import train as training

    try:
        manifest = training.train(data_dir or corpus.DATA_DIR, out_dir or store.DEFAULT_MODEL_DIR, seed=seed,
                                  progress=lambda msg: click.echo(msg, err=True))
    except corpus.CorpusError as exc:
        raise click.ClickException(f"corpus: {exc}") from None
    click.echo(json.dumps({k: manifest[k] for k in ("model_version", "thresholds", "metrics", "training_seconds")}, indent=2))


@main.command()
@click.option("--model", "model", default=None, help="Model directory (default: the shipped model).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--no-real", is_flag=True, help="Skip the real-text sets in ../shared.")
def evaluate(model: str | None, data_dir: Path | None, as_json: bool, no_real: bool) -> None:
    """Evaluate a model on the held-out split, beside the lexicon baseline, and on real text."""
    from models import corpus
    from models import evaluate as evaluation
    from models.store import ModelError

    try:
        report = evaluation.evaluate(model, data_dir or corpus.DATA_DIR, real=not no_real)
    except (ModelError, corpus.CorpusError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report, indent=2) if as_json else evaluation.format_report(report))


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(bind: str, workers: int, dev: bool) -> None:
    """Run the service (webhooks, health) on the configured database and model."""
    settings = _settings()
    # Multiprocess metrics: set before anything imports prometheus_client (it picks the mode on
    # import) and before gunicorn forks or the consumer starts, so all of them inherit it.
    metrics_dir = settings.data_dir / "metrics"
    metrics_dir.mkdir(exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()  # counts from a previous run would be summed into this one's
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    _migrated_engine(settings).dispose()  # migrate once, before workers start, so they never race to it
    click.echo(f"trustdesk: data dir {settings.data_dir}, listening on {bind}", err=True)
    for line in _integration_states(settings):
        click.echo(f"trustdesk: {line}", err=True)
    # On the embedded defaults (no Redis) one command runs everything: a consumer
    # process beside the web workers. With Redis, run `trustdesk worker` yourself.
    consumer = None
    if not settings.redis_url:
        consumer = subprocess.Popen([sys.executable, "-m", "plugin.cli", "worker", "--workers", "1"])
        click.echo(f"trustdesk: job consumer started (pid {consumer.pid})", err=True)
    try:
        _serve(bind, workers, dev)
    finally:
        if consumer is not None:
            consumer.terminate()
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                consumer.kill()


def _integration_states(settings) -> list[str]:
    """One line per integration: refusing deliveries, dry-run (no API credentials), or writing back."""
    from integrations import ADAPTERS

    from .services import adapter_settings

    values = adapter_settings(settings)
    lines = []
    for cls in ADAPTERS:
        adapter = cls(values)
        if not adapter.secret:
            state = f"not configured (set TRUSTDESK_{cls.name.upper()}_WEBHOOK_SECRET); deliveries are refused"
        elif not adapter.can_write_back:
            state = "dry-run: analyses and stores, writes nothing back (no API credentials)"
        else:
            state = "ready: writes notes and tags back"
        lines.append(f"integration {cls.name}: {state}")
    return lines


def _serve(bind: str, workers: int, dev: bool) -> None:
    host, _, port = bind.rpartition(":")
    if dev:
        import signal

        from .app import create_app

        # Flask's server dies on SIGTERM without unwinding; make it unwind so the consumer stops too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        create_app().run(host=host or "127.0.0.1", port=int(port), debug=False)
        return
    from .server import run

    run(bind, workers)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32), help="Consumer threads.")
def worker(workers: int) -> None:
    """Run the job queue's consumers (write-backs) until stopped."""
    from .services import build

    from .logs import init_logging

    settings = _settings()
    init_logging(settings)
    services = build(settings)
    click.echo(f"trustdesk worker: {workers} consumer(s) on {type(services.queue).__name__}", err=True)
    services.queue.create_consumer(workers=workers, worker_type="thread").run()


@main.command()
@click.argument("name")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Import tickets updated on or after this date (UTC).")
@click.option("--limit", type=click.IntRange(1), help="At most this many tickets.")
def backfill(name: str, since, limit: int | None) -> None:
    """Import a helpdesk's recent tickets (history and ledger), writing nothing back."""
    from datetime import timezone

    from .backfill import backfill as run_backfill
    from .services import build

    services = build(_settings())
    adapter = services.adapters.get(name)
    if adapter is None:
        raise click.UsageError(f"no integration named {name!r}; known: {', '.join(sorted(services.adapters))}")
    if not adapter.can_write_back:
        raise click.UsageError(f"{name} has no API credentials configured (TRUSTDESK_{name.upper()}_API_TOKEN ...): "
                               "backfill reads tickets through the API")
    try:
        report = run_backfill(services, adapter, since.replace(tzinfo=timezone.utc), limit,
                              progress=lambda line: click.echo(line, err=True))
    except NotImplementedError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps({"imported": report.imported, "refreshed": report.refreshed, "failed": report.failed}))
    if report.failed:
        sys.exit(1)


def _settings():
    """The service's settings, or a clear error naming the bad one."""
    from .config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _migrated_engine(settings=None):
    """An engine on the configured database, migrated to the latest revision."""
    from .storage import make_engine, upgrade

    engine = make_engine((settings or _settings()).database_url)
    upgrade(engine)
    return engine


def _sessions():
    """Sessions on the configured, migrated database (for the admin commands)."""
    from .storage import session_factory

    return session_factory(_migrated_engine())


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the service also does this at start)."""
    from .storage import current_revision

    click.echo(f"database at revision {current_revision(_migrated_engine())}")


from .cli_data import customers, tokens_group  # noqa: E402 - defined beside, on this module's helpers
from .console.cli import users_group  # noqa: E402 - console accounts are defined with the console

main.add_command(tokens_group)
main.add_command(customers)
main.add_command(users_group)

if __name__ == "__main__":
    main()
