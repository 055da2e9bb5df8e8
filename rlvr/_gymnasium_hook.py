"""Register rlvr's ids with gymnasium the moment gymnasium is imported.

Gymnasium >= 1.0 no longer loads ``gymnasium.envs`` entry points, yet users expect
``gym.make("rlvr/KuhnPoker-v0")`` to work without ``import rlvr``. ``rlvr_gym.pth`` (installed into
site-packages) imports this module at interpreter start-up. It costs one meta-path finder: no
gymnasium, no numpy. When ``gymnasium`` itself finishes importing, the finder registers our ids with
string entry points, so nothing heavy is imported until an env is actually made.
"""

import importlib.machinery
import sys


class _RegisterAfterGymnasiumLoads:
    """A meta-path finder (duck-typed: importing ``importlib.abc`` would cost start-up time)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "gymnasium":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original_exec = spec.loader.exec_module

        def exec_then_register(module):
            original_exec(module)
            _register_quietly()

        spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def _register_quietly() -> None:
    try:
        from rlvr.envs.catalog import register_gymnasium_envs

        register_gymnasium_envs()
    except Exception as error:  # never break `import gymnasium` for an unrelated user
        print(f"rlvr-gym: could not register envs with gymnasium: {error!r}", file=sys.stderr)


def install() -> None:
    """Register now if gymnasium is already loaded, otherwise as soon as it loads."""
    if "gymnasium" in sys.modules:
        _register_quietly()
    elif not any(isinstance(finder, _RegisterAfterGymnasiumLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterGymnasiumLoads())


install()
