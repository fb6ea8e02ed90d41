//! Cassettes: recorded Gemini sessions, a loopback fixture server that replays
//! them (with fault injection and counters), and a recording proxy.
