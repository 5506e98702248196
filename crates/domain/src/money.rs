//! Money: amounts in fen (分), the unit every amount is stored and counted in.
