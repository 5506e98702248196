//! Evaluations of contracts: indicator trees, scores, rectifications. (Being built: issue 14 item 5.)
