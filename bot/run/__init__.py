"""The composition root: settings, store, model client, tools, agent and front ends wired into a
running process (the ``supportbot`` command, ``serve``, ``doctor``). The only core package that imports
``integrations`` and ``tools``."""
