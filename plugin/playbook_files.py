"""Playbooks as admins edit them: the shipped files, overridden file by file from <data_dir>/playbooks.

An edited playbook is saved under the data dir with the shipped file's name and
wins over it; deleting the copy brings the shipped one back. Every save is
validated by guidance.playbooks' own loader first, so a file that would stop the
service loading its playbooks is never written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from guidance import playbooks
from guidance.engine import Context, guide, rank_playbooks
from guidance.partners import recognise
from models.ticket import load_ticket

log = logging.getLogger("trustdesk.playbooks")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_BYTES = 64 * 1024
SAMPLES = Path(__file__).resolve().parents[1] / "models" / "samples" / "tickets.jsonl"


class PlaybookInputError(ValueError):
    """A playbook name or text that cannot be used; the message says why (a 4xx, never a 500)."""


def override_dir(data_dir: Path) -> Path:
    """Where edited playbooks live."""
    return Path(data_dir) / "playbooks"


def check_name(name: str) -> str:
    """A playbook file name (kebab-case, no path), or PlaybookInputError."""
    if not NAME.fullmatch(name or "") or len(name) > 80:
        raise PlaybookInputError(f"{name!r} is not a playbook name (kebab-case letters and digits)")
    return name


def files(data_dir: Path) -> dict[str, Path]:
    """Every playbook file by name: the shipped ones, with the edited copies in their place."""
    found = {p.stem: p for p in sorted(playbooks.DEFAULT_DIR.glob("*.toml"))}
    edited = override_dir(data_dir)
    if edited.is_dir():
        found.update({p.stem: p for p in sorted(edited.glob("*.toml")) if NAME.fullmatch(p.stem)})
    return dict(sorted(found.items()))


def effective(data_dir: Path) -> list[playbooks.Playbook]:
    """The playbooks in force; a broken edited file (changed by hand) falls back to the shipped set, logged."""
    try:
        return [playbooks.load_file(path) for path in files(data_dir).values()]
    except playbooks.PlaybookError as exc:
        log.error("edited playbooks in %s are invalid (%s); using the shipped ones", override_dir(data_dir), exc)
        return playbooks.load_dir()


def listing(data_dir: Path) -> list[dict[str, Any]]:
    """Each playbook with its title and whether it was edited here."""
    out = []
    for name, path in files(data_dir).items():
        try:
            title = playbooks.load_file(path).title
        except playbooks.PlaybookError as exc:
            title = f"(invalid: {exc})"
        out.append({"name": name, "title": title, "edited": path.parent != playbooks.DEFAULT_DIR,
                    "shipped": (playbooks.DEFAULT_DIR / f"{name}.toml").is_file()})
    return out


def read(data_dir: Path, name: str) -> str:
    """The text of a playbook as in force."""
    path = files(data_dir).get(check_name(name))
    if path is None:
        raise PlaybookInputError(f"no playbook named {name!r}")
    return path.read_text(encoding="utf-8")


def validate(name: str, text: str) -> playbooks.Playbook:
    """Check a playbook's text with the loader (TOML, schema, id equal to the name); PlaybookError if wrong."""
    check_name(name)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise PlaybookInputError(f"a playbook is at most {MAX_BYTES // 1024} KiB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return playbooks.load_file(path)


def save(data_dir: Path, name: str, text: str) -> playbooks.Playbook:
    """Validate, then write the edited playbook atomically under the data dir."""
    playbook = validate(name, text)
    target = override_dir(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, target / f"{name}.toml")
    return playbook


def revert(data_dir: Path, name: str) -> bool:
    """Remove the edited copy so the shipped playbook is in force again; whether there was one."""
    path = override_dir(data_dir) / f"{check_name(name)}.toml"
    if not path.is_file():
        return False
    path.unlink()
    return True


def samples() -> list[dict[str, Any]]:
    """The sample tickets a preview can run on."""
    return [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]


def preview(ctx: Context, playbook: playbooks.Playbook, sample_index: int) -> dict[str, Any]:
    """What guidance a sample ticket gets from this playbook (with `general` as the fallback), and how well it fits."""
    tickets = samples()
    if not 0 <= sample_index < len(tickets):
        raise PlaybookInputError(f"sample must be from 0 to {len(tickets) - 1}")
    ticket = load_ticket(tickets[sample_index])
    analysis = ctx.analyzer.analyze(ticket)
    shipped_general = [p for p in ctx.playbooks if p.id == "general" and p.id != playbook.id]
    trial = Context(ctx.analyzer, [playbook, *shipped_general], ctx.partners, None)
    text = "\n".join(m["body"] for m in ticket["messages"])
    fit = next((score for score, p in rank_playbooks([playbook], ticket, analysis, recognise(text, ctx.partners))
                if p.id == playbook.id), 0.0)
    advice = guide(ticket, analysis, trial)
    return {"sample": {"id": ticket["id"], "subject": ticket.get("subject"),
                       "messages": [{"author_role": m["author_role"], "body": m["body"]} for m in ticket["messages"]]},
            "fit": fit, "used": any(s.get("playbook") == playbook.id for s in advice["suggestions"]),
            "guidance": advice}
