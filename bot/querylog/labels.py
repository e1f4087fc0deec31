"""Moderators' labels follow their passage's text through rebuilds of the index.

A label (`archive-bot logs label`) points at a passage id and keeps that passage's text. A
rebuild may give the id to another text (a paragraph above it was removed, the file was
renamed): before it, `remember_texts` records the texts old labels lack; after it, `follow`
moves each label to the passage now holding its text. A label whose text is gone is stale:
it is reported, never pointed at another sentence.
"""

from __future__ import annotations

from bot.querylog.log import QueryLog
from index.store import IndexStore


def remember_texts(log: QueryLog, store: IndexStore, labels: list[dict]) -> None:
    """Record the text of each of `labels` (`log.labelled_passages()`) whose passage's text the
    log lacks (labels made before the log kept texts), from `store`, the index the labels were
    made on."""
    for label in labels:
        if label["text"] is None and (passage := store.passage(label["passage_id"])):
            log.move_label(label["id"], label["passage_id"], passage.text)


def follow(log: QueryLog, store: IndexStore, labels: list[dict]) -> tuple[int, list[dict]]:
    """Keep each of `labels` (`log.labelled_passages()`) on its passage's text in the rebuilt
    `store`, in the same document if it has one; return how many labels moved and the stale
    labels (their text is gone)."""
    moved, stale = 0, []
    for label in labels:
        passage = store.passage(label["passage_id"])
        if label["text"] is None or (passage is not None and passage.text == label["text"]):
            continue
        holders = store.passage_ids_with_text(label["text"])
        if holders:
            document = label["passage_id"].split("#")[0]
            same = [h for h in holders if h.split("#")[0] == document]
            log.move_label(label["id"], (same or holders)[0], label["text"])
            moved += 1
        else:
            stale.append(label)
    return moved, stale
