"""Playbooks: the shipped set is valid and broad; bad files are named and never half-loaded."""

import shutil

import pytest

from guidance.playbooks import DEFAULT_DIR, PlaybookError, load_dir


def test_shipped_playbooks_cover_many_situations():
    playbooks = load_dir()
    assert len([p for p in playbooks if p.id != "general"]) >= 15
    assert len({i for p in playbooks for i in p.industries}) >= 10
    assert any(p.id == "general" for p in playbooks)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("id = 'x'\n", "title"),
        ("this is = not = toml", "not valid TOML"),
        ("id = 'broken'\ntitle = 'Title'\nstance = 'We own it, always.'\n[triggers]\n[[advice]]\nkind = 'maybe'\ntext = 'Do it well'\n"
         "[[replies]]\ntext = 'Hi {customer_name}, we are on it and will update you.'\n", "advice.0.kind"),
        ("id = 'broken'\ntitle = 'Title'\nstance = 'We own it, always.'\n[triggers]\n[[advice]]\nkind = 'do'\ntext = 'Do it well'\n"
         "[[replies]]\ntext = 'Hi {nickname}, we are on it and will update you.'\n", "unknown slot"),
        ("id = 'broken'\ntitle = 'Title'\nstance = 'We own it, always.'\n[triggers]\n[[advice]]\nkind = 'do'\ntext = 'Do it well'\n"
         "[[replies]]\ntext = 'Hi {customer_name}, I will update you by [time].'\n", "to_confirm"),
        ("id = 'other-name'\ntitle = 'Title'\nstance = 'We own it, always.'\n[triggers]\n[[advice]]\nkind = 'do'\ntext = 'Do it well'\n"
         "[[replies]]\ntext = 'Hi {customer_name}, we are on it and will update you.'\n", "must equal the file name"),
        ("id = 'broken'\ntitle = 'Title'\nstance = 'We own it, always.'\ncolour = 'blue'\n[triggers]\n[[advice]]\nkind = 'do'\n"
         "text = 'Do it well'\n[[replies]]\ntext = 'Hi {customer_name}, we are on it and will update you.'\n", "colour"),
        ("id = 'broken'\ntitle = 'Title'\nstance = 'We own it, always.'\n[triggers]\n[[advice]]\nkind = 'do'\ntext = 'Do it well'\n"
         "[[replies]]\ntext = 'Hi {customer_name}, we are on it and will update you.'\nwhen = 'lost'\n", "replies.0.when"),
    ],
)
def test_a_bad_file_is_named_and_nothing_loads(tmp_path, text, problem):
    shutil.copytree(DEFAULT_DIR, tmp_path / "pb")
    (tmp_path / "pb" / "broken.toml").write_text(text)
    with pytest.raises(PlaybookError) as err:
        load_dir(tmp_path / "pb")
    assert "broken.toml" in str(err.value) and problem in str(err.value)


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(PlaybookError, match="no playbook files"):
        load_dir(tmp_path)
