"""Load and validate the labelled training corpus under ``models/data/``.

The corpus is plain JSON Lines so that it diffs well under version control;
``FORMAT.md`` beside the data documents every field. Validation is strict
because one mislabelled line silently poisons every model trained after it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

DATA_DIR = Path(__file__).parent / "data"
LABELS = ("blame", "deflection", "escalation")
KINDS = ("public", "legal", "chargeback", "churn", "manager", "repeat_contact")
ROLES = ("customer", "agent")
REGISTERS = ("social", "chat", "email")
INDUSTRIES = (
    "retail", "travel", "car_rental", "hospitality", "telecom", "banking",
    "insurance", "saas", "gaming", "utilities", "food_delivery", "healthcare",
    "logistics", "electronics", "streaming", "property", "education",
    "automotive", "general",
)


class CorpusError(ValueError):
    """A corpus line that does not follow FORMAT.md."""


@dataclass
class Example:
    """One labelled message of the corpus."""

    id: str
    text: str
    role: str
    labels: dict[str, int]
    kinds: list[str]
    group: str
    industry: str = "general"
    register: str = "chat"
    non_native: bool = False
    hard_negative: bool = False
    source: str = "written"
    evidence: dict[str, list[str]] = field(default_factory=dict)
    context: list[dict] = field(default_factory=list)

    @property
    def y(self) -> list[int]:
        """Labels in the order of ``LABELS``."""
        return [self.labels[name] for name in LABELS]


def _require(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise CorpusError(f"{where}: {msg}")


def _check_labels(obj: dict, where: str) -> tuple[dict[str, int], list[str]]:
    labels = {}
    for name in LABELS:
        _require(obj.get(name) in (0, 1), where, f"'{name}' must be 0 or 1")
        labels[name] = int(obj[name])
    kinds = obj.get("kinds") or []
    _require(isinstance(kinds, list) and all(k in KINDS for k in kinds), where,
             f"'kinds' must be a list of {', '.join(KINDS)}")
    _require(not kinds or labels["escalation"] == 1, where, "'kinds' given but escalation is 0")
    _require(bool(kinds) or labels["escalation"] == 0, where, "escalation is 1 but no 'kinds'")
    return labels, kinds


def parse_message(obj: dict, where: str) -> Example:
    """Validate one message line and turn it into an Example."""
    _require(isinstance(obj, dict), where, "line is not a JSON object")
    text = obj.get("text")
    _require(isinstance(text, str) and text.strip() != "", where, "'text' must be a non-empty string")
    _require(obj.get("role") in ROLES, where, f"'role' must be one of {ROLES}")
    _require(isinstance(obj.get("id"), str) and obj["id"], where, "'id' must be a string")
    labels, kinds = _check_labels(obj, where)
    register = obj.get("register", "chat")
    _require(register in REGISTERS, where, f"'register' must be one of {REGISTERS}")
    industry = obj.get("industry", "general")
    _require(industry in INDUSTRIES, where, f"'industry' {industry!r} is not in FORMAT.md")
    if register == "social":
        _require(len(text) <= 280, where, "a social post is at most 280 characters")
    evidence = obj.get("evidence") or {}
    _require(isinstance(evidence, dict), where, "'evidence' must be an object")
    for name, spans in evidence.items():
        _require(name in LABELS and labels[name] == 1, where, f"evidence for '{name}' which is not 1")
        _require(isinstance(spans, list) and spans, where, f"evidence['{name}'] must be a non-empty list")
        for span in spans:
            _require(isinstance(span, str) and span in text, where,
                     f"evidence {span!r} is not an exact substring of text")
    return Example(
        id=obj["id"], text=text, role=obj["role"], labels=labels, kinds=list(kinds),
        group=str(obj.get("group") or obj["id"]), industry=industry, register=register,
        non_native=bool(obj.get("non_native", False)),
        hard_negative=bool(obj.get("hard_negative", False)),
        source=str(obj.get("source", "written")), evidence=evidence,
        context=list(obj.get("context") or []),
    )


def parse_ticket(obj: dict, where: str) -> dict:
    """Validate one labelled ticket line; returns it unchanged."""
    _require(isinstance(obj, dict), where, "line is not a JSON object")
    _require(isinstance(obj.get("id"), str) and obj["id"], where, "'id' must be a string")
    messages = obj.get("messages")
    _require(isinstance(messages, list) and len(messages) >= 2, where, "a ticket needs at least two messages")
    for i, msg in enumerate(messages):
        mwhere = f"{where} message {i}"
        _require(isinstance(msg, dict), mwhere, "not an object")
        _require(msg.get("author_role") in ROLES, mwhere, "'author_role' must be customer or agent")
        _require(isinstance(msg.get("body"), str) and msg["body"].strip(), mwhere, "'body' must be text")
        _check_labels(msg.get("labels") or {}, mwhere)
    _check_labels({**(obj.get("labels") or {}), "blame": 0, "deflection": 0}, where)
    return obj


def read_jsonl(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (where, object) for each line of a JSON Lines file."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            where = f"{path.name}:{n}"
            if not line.strip():
                raise CorpusError(f"{where}: blank line")
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: invalid JSON ({exc.msg})") from None


def message_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """All message files, in a stable order."""
    return sorted((data_dir / "messages").glob("*.jsonl")) + sorted((data_dir / "real").glob("*.jsonl"))


def ticket_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """All ticket files, in a stable order."""
    return sorted((data_dir / "tickets").glob("*.jsonl"))


def load_messages(paths: Iterable[Path] | None = None) -> list[Example]:
    """Load and validate message examples; ids must be unique."""
    examples, seen = [], set()
    for path in (message_files() if paths is None else paths):
        for where, obj in read_jsonl(path):
            ex = parse_message(obj, where)
            _require(ex.id not in seen, where, f"duplicate id {ex.id!r}")
            seen.add(ex.id)
            examples.append(ex)
    return examples


def load_tickets(paths: Iterable[Path] | None = None) -> list[dict]:
    """Load and validate labelled tickets; ids must be unique."""
    tickets, seen = [], set()
    for path in (ticket_files() if paths is None else paths):
        for where, obj in read_jsonl(path):
            parse_ticket(obj, where)
            _require(obj["id"] not in seen, where, f"duplicate ticket id {obj['id']!r}")
            seen.add(obj["id"])
            tickets.append(obj)
    return tickets


def corpus_hash(data_dir: Path = DATA_DIR) -> str:
    """sha256 over every corpus file's name and bytes, for the model manifest."""
    digest = hashlib.sha256()
    for path in message_files(data_dir) + ticket_files(data_dir):
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    """Check corpus files given on the command line and print a summary."""
    status = 0
    for name in argv:
        path = Path(name)
        try:
            if path.parent.name == "tickets":
                items = load_tickets([path])
                print(f"{path}: {len(items)} tickets OK")
            else:
                items = load_messages([path])
                pos = {k: sum(e.labels[k] for e in items) for k in LABELS}
                hard = sum(e.hard_negative for e in items)
                print(f"{path}: {len(items)} messages OK; positives {pos}; hard negatives {hard}")
        except (CorpusError, OSError) as exc:
            print(f"ERROR {exc}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
