"""strongroom: turn a dump of email and documents into an archive that can be searched, read,
verified and published safely. The library API is `strongroom.case.Case`."""

__version__ = "0.1.0"
