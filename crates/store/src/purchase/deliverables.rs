//! Deliverables of contract lines counted from service records. (Being built: issue 14 item 3.)
