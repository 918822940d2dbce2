// Interrupt checks usable inside C++ frames (DESIGN.md §3.3): CHECK_FOR_INTERRUPTS() would
// longjmp through them, so C++ loops and network calls poll these flags and return instead.
// PostgreSQL itself acts on the pending interrupt at its next CHECK_FOR_INTERRUPTS, after the
// boundary has been left.
#pragma once

namespace pg_ha::pg {

// A backend running an SQL function: query cancel (including statement_timeout) or termination.
bool backend_interrupt_pending();

}  // namespace pg_ha::pg
