"""``latentscore download <model>``: fetch a model's weights once, for offline use after.

Models never download anything when they are used (a render must not depend on the
network); this is the one explicit step that does. It writes into the directory the model
reads from, and when the Hugging Face hub cannot be reached it says so plainly and explains
how to put the files there by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

from latentscore.errors import LatentScoreError, ModelNotAvailableError
from latentscore.models import expressive
from latentscore.models.redact import Redactor

DOWNLOADABLE = ("expressive",)
_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
"""Config, tokenizer and weight files; skips duplicate formats (.bin, .gguf, onnx/)."""


def download_model(name: str, *, repo_id: str | None = None, directory: Path | None = None) -> Path:
    """Download ``name``'s weights (default repo) into its model directory; return the path.

    Raises ModelNotAvailableError explaining what to do when the hub is unreachable, the
    repository is gated or missing, or huggingface_hub is not installed.
    """
    if name not in DOWNLOADABLE:
        raise LatentScoreError(
            f"unknown model {name!r} to download; downloadable: {', '.join(DOWNLOADABLE)}"
        )
    repo = repo_id or expressive.DEFAULT_REPO
    target = Path(directory) if directory is not None else expressive.default_model_dir()
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    except ImportError:
        raise ModelNotAvailableError(
            f"downloading needs huggingface_hub; install it with: {expressive.INSTALL_HINT}"
        ) from None
    endpoint = os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"
    redact = Redactor()
    problem: str
    try:
        snapshot_download(
            repo_id=repo, local_dir=target, allow_patterns=_PATTERNS, endpoint=endpoint
        )
    except GatedRepoError:
        problem = (
            f"{repo} is gated on the Hugging Face hub: accept its licence at "
            f"{endpoint}/{repo} while logged in, then set HF_TOKEN (or run `hf auth login`) "
            "and try again"
        )
    except RepositoryNotFoundError:
        problem = f"{repo} was not found on {endpoint} (or it is private and no token is set)"
    except Exception as exc:  # network down, DNS, proxy, offline mode, disk full
        detail = redact(f"{type(exc).__name__}: {exc}").splitlines()[0][:200]
        problem = (
            f"could not download {repo} from {endpoint} ({detail}). The hub is unreachable "
            "from here: on a machine with internet access run `latentscore download "
            f"expressive` (or `hf download {repo}`; Gemma is gated, so accept its licence on "
            f"the hub and log in first), then copy the files into {target}, or point "
            f"{expressive.MODEL_DIR_ENV} at them"
        )
    else:
        if not expressive.has_weights(target):
            raise ModelNotAvailableError(
                f"{repo} was downloaded to {target} but has no config.json + weights; "
                "pass a transformers causal-LM repository with --repo"
            )
        return target
    raise ModelNotAvailableError(problem)
