#!/usr/bin/env bash
# lava-balanced's two set-up commands (see README.md):
#   bash run.sh main [train options]   train, evaluate and export a small Balanced SNN
#   bash run.sh test [pytest options]  run the test suite
# Both create ./.venv with Python 3.10 (Lava 0.10 supports only 3.10) and
# install the project into it (pip install -e ".[test,jax]": the test tools and
# the Spyx/JAX back end the export tests compare against) when needed.
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
    local c
    for c in "${PYTHON:-}" python3.10 "$(command -v pyenv >/dev/null && pyenv root)/versions/3.10.13/bin/python"; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    echo "run.sh: Python 3.10 not found (Lava 0.10 needs it); set PYTHON=/path/to/python3.10" >&2
    return 1
}

ensure_env() {
    if [ ! -x .venv/bin/python ]; then
        local py; py=$(find_python)
        "$py" -m venv .venv
        .venv/bin/python -m pip install -q --upgrade pip
    fi
    # reinstall when pyproject.toml changed since the last install
    if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
        .venv/bin/python -m pip install -q -e ".[test,jax]"
        touch .venv/.installed
    fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
    main)
        ensure_env
        .venv/bin/lava-balanced train --out runs/main "$@"
        .venv/bin/lava-balanced evaluate runs/main/model.npz
        .venv/bin/lava-balanced export runs/main/model.npz runs/main/model.nir --to nir --measure
        .venv/bin/lava-balanced export runs/main/model.npz runs/main/model.net --to loihi --measure
        ;;
    test)
        ensure_env
        .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: bash run.sh main [train options] | bash run.sh test [pytest options]" >&2
        exit 2
        ;;
esac
