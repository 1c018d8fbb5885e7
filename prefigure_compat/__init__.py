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

Differences from prefigure (each has a test in ``src/test/test_compat_fixes.py``):

=====================================  ===========================================  ===========================================
Situation                              prefigure 0.0.10                             prefigure_compat
=====================================  ===========================================  ===========================================
a key ``config_file``/``wandb_config``  silently drops every later key (``break``)   that key is skipped; later keys are kept
in the config file or pulled run
boolean in the config file             always defaults to ``False``                 defaults to the file's value
``--flag False``                       ``True`` (``bool('False')``)                 ``False``; ``True/False/yes/no/1/0``;
                                                                                    bare ``--flag`` is ``True``; else exit 2
OFC edit of a key not in               applied                                      rejected with a warning naming the key;
``steerables``                                                                      the run keeps the old value
``OFC(args)``                          starts a Gradio GUI (code) although the      no GUI unless ``gui=True``/``use_gui=True``
                                       README says it is optional                   (or ``args.use_gui`` is ``True``)
``OFC(args, steerables=None)``         nothing is steerable (code)                  everything is steerable (README), except
                                                                                    ``config_file``/``wandb_config``
GUI with 3 columns                     ``len // 3`` keys per column: the last       every steerable key gets a widget
                                       ``len % 3`` keys get no widget
public GUI link relaunch               test ``start - now >= 71 h`` is never true:  relaunched before the 72 h expiry
                                       the link expires
``--ratios "[1, 2]"`` (list, tuple,    ``list('[1, 2]')``: a list of characters     parsed by ``literal_eval``; a value of
dict setting)                                                                       another kind exits 2 with a message
``get_all_args(defaults_file=X)``      ``args.config_file`` says ``defaults.ini``   ``args.config_file`` is ``X``, the file read
``imports = model_config``             substring test: a key ``config`` would be    comma-separated names (or a list)
                                       imported too
option that only the pulled W&B run    exit 2 (parsed before the pull)              accepted
has, on the command line
``--wandb-config`` in gin mode         still pulls from W&B                         gin only (README: "only runs gin")
unreadable/missing/bad config or       help text + ``ERROR: Trouble reading``, or   one line naming the file (and line), exit 2,
imported file                          a traceback (imports, bad JSON shape)        no traceback
``%`` in a help comment                ``--help`` crashes                           shown as ``%``
help of a key                          line before the *last* line containing the   the comment line(s) directly above the key
                                       key as a substring
OFC edits typed by                     ``literal_eval`` (``name = 123`` becomes     the current value's type (``config_utils``
                                       an int; lists cannot be edited)              conversion); lists can be edited
OFC file when ``args`` has no          ``AttributeError``                           ``ofc.ini``; with a directory in
``name``                                                                            ``ofc_file``: ``dir/<name>-ofc.ini``
``push_wandb_config(omit=[typo])``     silently pushes everything                   warns naming the key (did-you-mean)
=====================================  ===========================================  ===========================================

Kept as in prefigure although surprising: a *string value* containing ``_dir`` becomes a
``pathlib.Path`` (prefigure tests the value, not the key); a setting whose value is ``None``
takes any text; keys of an imported ``.ini`` file stay raw strings; relative paths are read
from the working directory.
"""

from __future__ import annotations

from ._args import (
    DEFAULTS_FILE,
    arg_eval,
    get_all_args,
    parse_imports,
    pull_wandb_config,
    read_config,
    read_defaults,
    setup_args,
    setup_gin,
)
from ._ofc import OFC
from ._wandb import push_wandb_config

__all__ = [
    "DEFAULTS_FILE",
    "OFC",
    "arg_eval",
    "get_all_args",
    "parse_imports",
    "pull_wandb_config",
    "push_wandb_config",
    "read_config",
    "read_defaults",
    "setup_args",
    "setup_gin",
]
