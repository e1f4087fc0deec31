"""The names of the archive and of a question (index.names)."""

from __future__ import annotations

from index.names import Names, archive_names

LETTER = (
    "On July 31, 2013 Mukhtar Ablyazov was arrested in France. The Government headed by "
    "Prime Minister K. Tokaev asked for him. Ablyazov's wife was deported from Italy. "
    "Justice and the court of France are independent; the court will decide."
)


def test_the_archive_s_names_are_the_words_it_capitalises_inside_sentences():
    names = archive_names([LETTER])
    assert {"ablyazov", "france", "tokaev", "mukhtar", "italy"} <= names  # "K. Tokaev": initial
    # Capitalised only where a sentence starts, or more often written small:
    assert not {"on", "the", "justice", "court"} & names


def test_a_question_s_names_in_any_alphabet_and_with_any_ending():
    names = Names(archive_names([LETTER]))
    assert names.of("What currency does France use?") == "France"
    assert names.of("what happened to ablyazov in france") == "ablyazov france"
    assert names.of("Где задержали Мухтара Аблязова?") == "Мухтара Аблязова"
    assert names.of("Тоқаев қандай білім алған?") == "Тоқаев"  # the first word, by its stem
    assert names.of("Кто основал Human Rights Watch?") == "Human Rights Watch"  # capitalised
    assert names.of("Когда это было?") is None  # "Когда" starts the question: not a name


def test_a_question_of_names_only_or_of_none_has_nothing_to_check():
    names = Names(archive_names([LETTER]))
    assert names.of("Ablyazov?") is None
    assert names.of("Мухтар Аблязов") is None
    assert names.of("how do I bake bread") is None  # "I" is one letter
    assert Names([]).of("what currency does france use?") is None  # nothing known, nor capital
