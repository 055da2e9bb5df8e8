# Shared by scripts/demo and scripts/test: make ./.venv and install rlvr-gym into it with the given extras.
# A venv per checkout keeps the two commands independent of whatever the machine has installed.
ensure_venv() {
    local extras="$1"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
}
