"""Delete expired authentication tokens: the documentation's example job."""

import logging

log = logging.getLogger(__name__)


async def cleanup_expired_tokens() -> int:
    """Pretend to purge expired tokens and report how many went."""
    removed = 0
    log.info("removed %d expired tokens", removed)
    return removed
