"""The Slack front end (slack-bolt ``AsyncApp``): mentions, DMs and thread follow-ups answered by editing
a message as the answer streams, ``/support`` for leads, feedback and escalation buttons.

``server`` runs it (HTTP or Socket Mode) and ``app`` wires the listeners, which hand their work to
tracked background tasks (``bot.tasks``); ``events`` reads Slack's payloads; ``answering``, ``history``,
``principals`` and ``stream`` answer a message; ``commands``, ``actions`` and ``escalations`` serve the
leads (Slack's side of ``bot.support_commands``, ``bot.buttons`` and ``bot.escalations``); ``mrkdwn`` and
``blocks`` format; ``budgets`` hold the shared rate limits; ``recovery`` settles answers cut off by a
restart.
"""
