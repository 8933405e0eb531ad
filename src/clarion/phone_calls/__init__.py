"""Phone calls over Twilio: the calls a patient makes to a clinic's number, answered by the
number's assistant over a Media Stream (clarion.engine.twilio_channel), and hanging a call
up through Twilio once its assistant has ended it."""
