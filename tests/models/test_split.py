"""The held-out split is stable and never separates near-duplicates."""

from models.split import is_held_out, merge_near_duplicates


def test_near_duplicates_share_a_group():
    texts = [
        "Please contact Expedia, they are an independent third party and not affiliated with us.",
        "Please contact Expedia, they are an independent third party and are not affiliated with us!",
        "Your refund has been processed today.",
    ]
    merged = merge_near_duplicates(texts, ["g1", "g2", "g3"])
    assert merged[0] == merged[1] != merged[2]


def test_held_out_depends_only_on_the_group_name():
    names = [f"g{i}" for i in range(2000)]
    first = [is_held_out(n) for n in names]
    assert first == [is_held_out(n) for n in names]
    assert 0.15 < sum(first) / len(first) < 0.25
