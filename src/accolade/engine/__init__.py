"""Pure domain rules: program + member state + event -> effects. No I/O, no clock."""
