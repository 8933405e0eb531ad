"""Telephony: Twilio's side of a phone call, as clarion speaks it.

Checking that a request comes from Twilio (signature), the TwiML that answers it (twiml),
placing and ending calls over its REST API (rest), and the messages and μ-law audio of a
call's media stream (media). Nothing here holds a call's state; the engine does.
"""
