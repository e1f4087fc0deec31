from index.normalize import fold, tokens


def test_cyrillic_lookalikes_fold_to_latin():
    assert fold("М. Ablyazov") == "m. ablyazov"  # Cyrillic М
    assert fold("HUMAN RIGHTS WATСH") == "human rights watch"  # Cyrillic С
    assert fold("К. Tokaev") == "k. tokaev"
    assert fold("Е. Idrisov") == "e. idrisov"


def test_genuine_cyrillic_words_keep_their_letters():
    assert fold("Москва") == "москва"
    assert fold("Назарбаев") == "назарбаев"
    # In Cyrillic text, words of look-alike letters only are words: Kazakh "ісі", Russian "с".
    assert fold("Саяси қудалаудың қанша ісі тіркелді?") == "саяси қудалаудың қанша ісі тіркелді?"
    assert fold("Кто с ним?") == "кто с ним?"
    assert fold("Доклад WATСH о Казахстане") == "доклад watch о казахстане"


def test_quotes_dashes_and_compatibility_forms():
    assert fold("Ablyazov’s “justice” – ﬁne ＡＢＣ") == 'ablyazov\'s "justice" - fine abc'


def test_invisible_characters_and_lone_surrogates_vanish():
    assert fold("Abl\u200byazov\u00ad \u202eX\ud800") == "ablyazov x"


def test_whitespace_is_folded():
    assert fold("  a\n\tb\u00a0 c ") == "a b c"


def test_tokens_are_letters_and_digits():
    assert tokens("М.Ablyazov’s case, 2013!") == ["m", "ablyazov", "s", "case", "2013"]
