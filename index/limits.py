"""The bounds on reading one file, set with ARCHIVE_BOT_READ_LIMITS: the one place they are
defined. The worker (index.reading) holds a file to its time and memory; the readers
(index.formats) check its size, its zip members and its text against the others."""

from __future__ import annotations

from dataclasses import dataclass, fields

from index import settings
from index.errors import ArchiveError

LIMITS_VARIABLE = "ARCHIVE_BOT_READ_LIMITS"
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on reading one file. The defaults let a 500-page report and a 50 MB paragraph in."""

    file_mb: int = 256  # size of the file on disk
    text_mb: int = 256  # text extracted from it (characters, in millions)
    unzipped_mb: int = 512  # all members of a .docx together, uncompressed
    zip_ratio: int = 100  # uncompressed / compressed size of one zip member over 1 MB
    seconds: int = 300  # time to read it
    memory_mb: int = 2048  # address space of the worker process that reads it

    @classmethod
    def from_environ(cls) -> Limits:
        """Return the limits, with those ARCHIVE_BOT_READ_LIMITS sets ("seconds=60,memory_mb=1024").

        Raises:
            ArchiveError: the variable names an unknown limit or a value that is not a
                positive whole number.
        """
        value = settings.value(LIMITS_VARIABLE) or ""
        known = {f.name for f in fields(cls)}
        limits = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            name, _, number = part.partition("=")
            name, number = name.strip(), number.strip()
            if name not in known or not number.isascii() or not number.isdigit() or not int(number):
                raise ArchiveError(
                    f"{LIMITS_VARIABLE}: {part!r} is not NAME=NUMBER with a positive whole "
                    f"number and NAME one of {', '.join(sorted(known))}"
                )
            limits[name] = int(number)
        return cls(**limits)
