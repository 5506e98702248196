//! (Being built: issue 14.)
