"""bridge: the MIDI/OSC daemon (OSC, OSCQuery, MIDI in/out, audio out). Arrives with its issues."""
