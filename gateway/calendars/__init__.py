"""The calendar notices operators load for years the official calendar lacks (rule 11):
`repository` stores and reads them; `gateway.domain.calendar` decides working days with them."""
