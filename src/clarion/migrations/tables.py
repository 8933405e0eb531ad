"""Imports every table module, so that ``Base.metadata`` knows the whole schema."""

import clarion.assistants.models
import clarion.auth.models
import clarion.call_reads.models
import clarion.calls.models
import clarion.credentials.models
import clarion.idempotency.models
import clarion.people.models
import clarion.phone_numbers.models
import clarion.webhooks.models  # noqa: F401
