"""The bounds on reading one file, set with ARCHIVE_BOT_READ_LIMITS: the one place they are
defined and checked. The worker (index.readers.worker) holds a file to its time and memory;
`check_file`, `check_zip` and `check_text` hold it to the others, before and after parsing."""

from __future__ import annotations

import io
import zipfile
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

    def check_file(self, size: int) -> None:
        """Refuse a file of `size` bytes over `file_mb`, before it is read.

        Raises:
            ValueError: saying by how much, and which limit.
        """
        if size > self.file_mb * MB:
            raise ValueError(
                f"the file is {size / MB:.0f} MB, over the limit of {self.file_mb} MB "
                f"(file_mb in {LIMITS_VARIABLE})"
            )

    def check_zip(self, raw: bytes) -> None:
        """Refuse a zip container (.docx, .odt, .epub) whose members would inflate past the
        limits, before anything in it is parsed.

        A member is never inflated past the size its header declares (zipfile stops there), so
        the headers bound the work: too large in all (`unzipped_mb`), or one member inflating
        too many times over (`zip_ratio`: a zip bomb), and the file is refused.

        Raises:
            ValueError: the container is not a zip, or over a limit (the message names it).
        """
        try:
            members = zipfile.ZipFile(io.BytesIO(raw)).infolist()
        except zipfile.BadZipFile as error:
            raise ValueError(f"not a readable zip container ({error})") from error
        total = 0
        for member in members:
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > MB and ratio > self.zip_ratio:
                raise ValueError(
                    f"its part {member.filename!r} inflates {ratio:.0f} times "
                    f"(limit {self.zip_ratio}, zip_ratio): a zip bomb?"
                )
        if total > self.unzipped_mb * MB:
            raise ValueError(
                f"it unpacks to {total / MB:.0f} MB (limit {self.unzipped_mb} MB, unzipped_mb)"
            )

    def check_text(self, text: str) -> None:
        """Refuse an extracted `text` over `text_mb` (million characters).

        Raises:
            ValueError: naming the limit.
        """
        if len(text) > self.text_mb * MB:
            raise ValueError(f"it holds more than {self.text_mb} MB of text (text_mb)")
