"""Pair pages: unambiguous, stable file names (issue 16, item 8)."""

from reports._load import pair_page


def test_ids_with_double_underscores_never_share_a_page():
    assert pair_page("a__b", "c") != pair_page("a", "b__c")
    assert pair_page("ana", "bob") != pair_page("bob", "ana")  # the pair is ordered


def test_pair_pages_are_stable_readable_and_safe():
    page = pair_page("ana_knn", "sorin_copy")
    assert page == pair_page("ana_knn", "sorin_copy")
    # a fixed hash (blake2b), never Python's salted hash(): the same name in every process
    assert page == "pairs/ana_knn__sorin_copy-" + page.rsplit("-", 1)[1]
    assert len(page.rsplit("-", 1)[1]) == len("0123456789ab.html")
    odd = pair_page("web:mlp_tutorial", "ștefan\x1b]0;x\x07" + "z" * 300)
    name = odd.removeprefix("pairs/")
    assert "/" not in name and "\x1b" not in name and len(name.encode()) < 200
    assert pair_page("a\udcff", "b") != pair_page("a\udcfe", "b")


def test_many_colliding_ids_get_distinct_pages():
    ids = ["a", "a__b", "b", "b__c", "c", "a__b__c", "__", "_"]
    pages = {pair_page(x, y) for x in ids for y in ids if x != y}
    assert len(pages) == len(ids) * (len(ids) - 1)
