"""The quality loop (docs/architecture.md §6b): what each answer did (``record``), where answers fail
(``gaps``) and KB articles drafted from resolved threads (``drafts``)."""
