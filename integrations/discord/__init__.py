"""The Discord front end (discord.py 2.x over the gateway): mentions answered in a thread opened on the
message, posts in support forums answered in the post, follow-ups in those threads and direct messages,
each streamed by editing a message as the answer is written; ``/support`` for leads, feedback and
escalation buttons.

``app`` runs the client (``DiscordFrontEnd``) and hands the work to tracked background
tasks (``bot.tasks``); ``events`` reads what Discord sends; ``answering``, ``history``, ``principals`` and
``stream`` answer a message; ``commands``, ``actions`` and ``escalations`` serve the leads (Discord's side
of ``bot.support_commands``, ``bot.buttons`` and ``bot.escalations``), answering interactions within 3 s
(``respond``); ``ui`` and ``markup`` format; ``budgets`` keep the posts and edits under Discord's rate
limits; ``recovery`` settles answers cut off by a restart.
"""
