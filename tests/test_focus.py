"""The kind of fact a question asks for, and whether passages hold it (index.focus)."""

from __future__ import annotations

import pytest

from index.focus import kinds_in, lacks_what_is_asked


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("When was Mukhtar Ablyazov born?", {"birth"}),
        ("Когда родился Мухтар Аблязов?", {"birth"}),
        ("Мұхтар Аблязов қашан туған?", {"birth"}),
        ("How many people live in Almaty?", {"residence"}),
        ("Какое население Франции?", {"residence"}),
        ("Какая валюта во Франции?", {"currency"}),
        ("How many dollars did he take?", {"money", "currency"}),
        ("Қазақстанның халқы қанша?", {"residence"}),  # "халқы": its people, its population
        ("Қазақстан қашан тәуелсіздік алды?", {"independence"}),
        ("Когда Казахстан стал независимым?", {"independence"}),
        ("Who wrote the letter?", set()),
        ("When was Ablyazov detained in France?", set()),
        ("Where is the European Court?", set()),  # "euro" is a whole word: no "European"
        ("Who sang the song?", set()),  # "son" is a whole word
    ],
)
def test_kinds_of_fact_in_three_languages(question: str, kinds: set[str]):
    assert kinds_in(question) == kinds


def test_a_passage_must_hold_what_is_asked_in_any_language():
    arrest = "On July 31, 2013 French special units detained Ablyazov near Cannes."
    assert lacks_what_is_asked("When was Ablyazov born?", [arrest])
    assert lacks_what_is_asked("Когда родился Аблязов?", [arrest])
    assert not lacks_what_is_asked("Когда родился Аблязов?", [arrest, "He was born in 1963."])
    assert not lacks_what_is_asked("When was Ablyazov detained?", [arrest])  # asks no kind
    assert not lacks_what_is_asked("Кто жена Жакиянова?", ["His wife Karlygash was beaten."])
    assert not lacks_what_is_asked("Where does he live?", ["He is residing in Geneva."])
    oil = "The income from oil went to personal bank accounts."
    assert not lacks_what_is_asked("How much money went to the accounts?", [oil])
    assert lacks_what_is_asked("Қазақстанның ұлттық валютасы қандай?", [oil])  # a sum, no currency


def test_with_names_the_kind_must_be_in_a_sentence_naming_one_of_them():
    party = (
        "Three opposition figures were arrested: the co-founders of Democratic Choice М. Ablyazov"
        " and G. Zhakiyanov, and S. Duvanov, a human rights activist. Trials followed."
    )
    assert lacks_what_is_asked("Who founded Human Rights Watch?", [party], "Human Rights Watch")
    assert not lacks_what_is_asked("Who founded Human Rights Watch?", [party])  # no names given
    assert not lacks_what_is_asked("Какую партию основал Жакиянов?", [party], "Жакиянов")
    wife = "The President was indignant. His wife Karlygash Zhakiyanova was beaten."
    assert not lacks_what_is_asked("Как зовут жену Жакиянова?", [wife], "Жакиянова")
    assert lacks_what_is_asked("Как зовут жену Назарбаева?", [wife], "Назарбаева")
