"""The method's lint rules, one module per family (NS1xx to NS6xx);
`northstar_spec.spec.registry` lists them with the file rules (NS0xx),
which live beside the stages that find them (`file_rules`)."""
