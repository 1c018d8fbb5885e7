"""prefigure 0.0.10's API, as a thin layer over ``config_utils``.

Change one import and a prefigure script keeps working::

    from prefigure_compat import get_all_args, push_wandb_config, OFC

Same names and signatures as prefigure 0.0.10, and the same results where prefigure is right
(``[DEFAULTS]`` section, case-preserved keys, ``--some-key`` for ``some_key``, values typed by
``literal_eval``, help from the comment line above a key, ``--config-file`` with
``.ini``/``.json``/``.gin``, ``--wandb-config``, the ``imports`` key, ``OMITTED`` skipped on
pull, the OFC file ``<name>-ofc.ini`` with an ``[OFC]`` section). A differential test suite
(``src/test/test_compat_differential.py``) runs the real prefigure and this package on the
same inputs. ``import prefigure_compat`` imports only the standard library (argparse): no
wandb, gradio, torch or tyro; W&B and the OFC load ``config_utils`` when they are used.

Every difference from prefigure, with the reason and the test that pins it, is in one table:
docs/prefigure-differences.md (the policy: docs/design.md, "prefigure_compat
policy"). ``prefigure_compat.prefigure`` and
``prefigure_compat.ofc`` mirror prefigure's two modules (same exported names), so
``from prefigure.prefigure import get_all_args`` and ``from prefigure.ofc import OFC`` also
need only the package name changed.
"""

from __future__ import annotations

from . import ofc, prefigure
from .ofc import *  # noqa: F403  (prefigure's package exports both modules' names)
from .prefigure import *  # noqa: F403

__all__ = sorted(set(prefigure.__all__) | set(ofc.__all__) | {"ofc", "prefigure"})
