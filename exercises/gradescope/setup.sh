#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): it
# installs what grading needs into $AUTOGRADER_ROOT/env (AUTOGRADER_ROOT defaults to
# /autograder, Gradescope's root; set it to test the autograder anywhere else).
#
# 1. Python and the CPU build of torch from conda-forge, in a conda environment made with
#    Miniforge, as Binder does (binder/environment.yml): a default torch wheel would bring
#    gigabytes of CUDA libraries that the grading never uses. If conda-forge has no CPU build
#    of the pinned torch, the pinned default wheel is installed with pip instead (a larger image,
#    the same version).
# 2. With pip, the pins of this folder's requirements.txt: the lines of the course's
#    requirements.txt that grading needs (make autograder copies them; torch from step 1).
# 3. The course's library `overparam`, from the wheel in this folder.
# 4. A check that the environment has exactly these versions (check_env.py); the image build
#    fails otherwise.
#
# With AUTOGRADER_PYTHON set to an interpreter that already has all that (the course's .venv),
# or when $AUTOGRADER_ROOT/env exists, the installation is skipped and only step 4 runs.
set -euo pipefail

PYTHON_VERSION=3.11
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
ENV_DIR="$ROOT/env"
TORCH=$(sed -n -E 's/^torch==([^ ;#]+).*/\1/p' "$SRC/requirements.txt")

if [ -n "${AUTOGRADER_PYTHON:-}" ]; then
    PY="$AUTOGRADER_PYTHON"
    echo "setup.sh: using $PY, no installation"
elif [ -x "$ENV_DIR/bin/python" ]; then
    PY="$ENV_DIR/bin/python"
    echo "setup.sh: $ENV_DIR exists, no installation"
else
    export DEBIAN_FRONTEND=noninteractive
    if ! command -v curl >/dev/null; then
        apt-get update -qq && apt-get install -y -qq curl ca-certificates >/dev/null
    fi
    conda="$ROOT/miniforge/bin/conda"
    if [ ! -x "$conda" ]; then
        curl -fsSL -o /tmp/miniforge.sh \
            "https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-Linux-$(uname -m).sh"
        bash /tmp/miniforge.sh -b -p "$ROOT/miniforge"
        rm -f /tmp/miniforge.sh
    fi
    if "$conda" create -y -q -p "$ENV_DIR" -c conda-forge --override-channels \
            "python=$PYTHON_VERSION" "pytorch-cpu=$TORCH" pip; then
        grep -v -E '^\s*torch([=<>~! ]|$)' "$SRC/requirements.txt" > /tmp/requirements-grading.txt
    else
        echo "setup.sh: conda-forge has no pytorch-cpu=$TORCH; installing torch==$TORCH with pip"
        rm -rf "$ENV_DIR"
        "$conda" create -y -q -p "$ENV_DIR" -c conda-forge --override-channels \
            "python=$PYTHON_VERSION" pip
        cp "$SRC/requirements.txt" /tmp/requirements-grading.txt
    fi
    PY="$ENV_DIR/bin/python"
    "$PY" -m pip install --no-cache-dir -q -r /tmp/requirements-grading.txt
    "$PY" -m pip install --no-cache-dir -q --no-deps "$SRC"/overparam-*.whl
    "$conda" clean -y -q --all >/dev/null || true
fi

"$PY" "$SRC/exercises/gradescope/check_env.py" "$PYTHON_VERSION" "$SRC/requirements.txt"
