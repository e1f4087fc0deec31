"""What tests and scripts share; test files import from here, never from one another.

archive.py    the shipped archive: paths, the letter, the catalogue, `verbatim`
botapi.py     the Bot API stand-in on 127.0.0.1, updates to push, and waiting for replies
documents.py  documents as they really arrive (news pages, Word, ODT, EPUB, PDF, scans)
              and hostile ones (zip and entity bombs), built by the tests themselves
"""
