"""Students' notebooks: read them safely, execute them in the sandbox, take their artifacts.

``reading`` refuses what is not a runnable Python notebook; ``kernel`` starts ipykernel inside
bubblewrap; ``execution`` runs one notebook's cells and serves its artifacts; ``runner`` does it
for every notebook a pack lists; ``probe`` is the only gradekit code that runs in the kernel.
"""


class ArtifactError(RuntimeError):
    """A value the tests need from a notebook is not there; the message says why."""
