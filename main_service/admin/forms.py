"""Admin forms. They check shape only; rules live in ``shared.services``.

A service's ``ValidationFailed`` names fields by their API paths
(``items.0.quantity``); :func:`show_errors` puts each message on its field.
"""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from shared import limits
from shared.errors import DomainError, ValidationFailed
from shared.inputs import UNSET, DiscountInput, InvoiceChanges, InvoiceDraft, ItemInput
from shared.models.enums import CLIENT_TYPES, PAPER_SIZES, PAYMENT_METHODS, ROLES, TAX_ROUNDING_MODES
from shared.parsing import NUL_MESSAGE

COMMON_CURRENCIES = ["NGN", "USD", "EUR", "GBP", "GHS", "KES", "ZAR", "XOF", "JPY", "KWD", "CAD", "AUD"]


class FlaskForm(FlaskForm):  # noqa: F811  (the base every form below uses)
    """Flask-WTF's form, refusing NUL in every submitted field.

    PostgreSQL text cannot hold NUL; refusing it here, next to the field, keeps
    it from every query (a sign-in lookup, a search, a save).
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _fields_in(self):
            if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
                field.errors = [*field.errors, NUL_MESSAGE]
                valid = False
        return valid


def _fields_in(form: Form):
    """Every input field of a form, including each row of a FieldList of sub-forms."""
    for field in form:
        if isinstance(field, FormField):
            yield from _fields_in(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _fields_in(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield field


class SelectField(SelectField):  # noqa: F811  (the one name every form below uses)
    """WTForms' select, but a field missing from the submitted form keeps its default.

    Browsers always send a select's value; scripts and tests may leave it out,
    which should mean "the default", not "Not a valid choice".
    """

    def process_formdata(self, valuelist):
        if valuelist:
            super().process_formdata(valuelist)
        else:
            self.data = self.default


def label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("New password (at least 10 characters)", validators=[DataRequired(), Length(max=256)])
    repeat_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="does not match the new password")],
    )


class ConfirmForm(FlaskForm):
    """Only a CSRF token: for buttons that change state (archive, retry, sign out...)."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=limits.VOID_REASON)])


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=limits.CLIENT_NAME)])
    client_type = SelectField("Type", choices=[(t, label(t)) for t in CLIENT_TYPES], default="individual")
    email = EmailField("E-mail", validators=[Optional(), Length(max=limits.EMAIL)])
    phone = StringField("Phone (international, e.g. +2348031234567)", validators=[Optional(), Length(max=limits.PHONE)])
    billing_address = TextAreaField("Billing address", validators=[Optional(), Length(max=limits.ADDRESS)])
    postal_address = TextAreaField("Postal address", validators=[Optional(), Length(max=limits.ADDRESS)])
    default_currency = SelectField(
        "Default currency", choices=[("", "Company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    sms_opt_in = BooleanField("Send reminders by SMS too")
    reminders_opt_out = BooleanField("Never send payment reminders")

    def to_data(self) -> dict:
        return {
            "name": self.name.data,
            "client_type": self.client_type.data,
            "email": self.email.data or "",
            "phone": self.phone.data or "",
            "billing_address": self.billing_address.data or "",
            "postal_address": self.postal_address.data or "",
            "default_currency": self.default_currency.data or "",
            "sms_opt_in": bool(self.sms_opt_in.data),
            "reminders_opt_out": bool(self.reminders_opt_out.data),
        }


class LineForm(Form):
    description = StringField("Description", validators=[Length(max=limits.LINE_DESCRIPTION)])
    quantity = StringField("Quantity", default="1")
    unit_price = StringField("Unit price")
    tax_rate = StringField("Tax %", default="0")


class InvoiceForm(FlaskForm):
    client_id = SelectField("Client", coerce=str, validators=[DataRequired()])
    currency = SelectField(
        "Currency", choices=[("", "Client's or company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    issue_date = StringField("Issue date", render_kw={"type": "date"})
    due_date = StringField("Due date", render_kw={"type": "date"})
    purchase_order = StringField("Purchase order", validators=[Optional(), Length(max=limits.PURCHASE_ORDER)])
    notes = TextAreaField("Notes to the client", validators=[Optional(), Length(max=limits.INVOICE_NOTES)])
    discount_type = SelectField(
        "Discount", choices=[("", "No discount"), ("percent", "Percent"), ("fixed", "Fixed amount")], default=""
    )
    discount_value = StringField("Discount value")
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=limits.MAX_LINES)

    def to_draft(self) -> InvoiceDraft:
        """The new invoice as entered; no currency chosen means the client's or the company's."""
        return InvoiceDraft(**self._fields(), currency=self.currency.data or None)

    def to_changes(self) -> InvoiceChanges:
        """The editor shows every field, so every field is given; the currency only when chosen."""
        return InvoiceChanges(**self._fields(), currency=self.currency.data or UNSET)

    def _fields(self) -> dict:
        # Wholly blank rows are left out; remember which rows became which items
        # so an error on items.N lands on the right row.
        self.item_rows = [
            index
            for index, line in enumerate(entry.form for entry in self.lines.entries)
            if (line.description.data or "").strip() or (line.unit_price.data or "").strip()
        ]
        return {
            "client_id": self.client_id.data or None,
            "issue_date": self.issue_date.data or None,
            "due_date": self.due_date.data or None,
            "purchase_order": self.purchase_order.data or "",
            "notes": self.notes.data or "",
            "discount": DiscountInput(type=self.discount_type.data, value=self.discount_value.data or "0")
            if self.discount_type.data
            else None,
            "items": [
                ItemInput(
                    description=line.description.data or "",
                    quantity=(line.quantity.data or "").strip(),
                    unit_price=(line.unit_price.data or "").strip(),
                    tax_rate=(line.tax_rate.data or "0").strip() or "0",
                )
                for line in (self.lines.entries[index].form for index in self.item_rows)
            ],
        }


class SendForm(FlaskForm):
    email = BooleanField("E-mail with the PDF attached", default=True)
    sms = BooleanField("SMS with the link")
    # "issue" from the review page, "resend" from an issued invoice: a second
    # submit of the review form must not turn into a resend.
    intent = HiddenField(default="resend")


class PaymentForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired()])
    paid_on = StringField("Date received", render_kw={"type": "date"})
    method = SelectField("Method", choices=[(m, label(m)) for m in PAYMENT_METHODS], default="bank_transfer")
    reference = StringField("Reference", validators=[Optional(), Length(max=limits.PAYMENT_REFERENCE)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=limits.PAYMENT_NOTE)])
    notify_email = BooleanField("E-mail the receipt to the client", default=True)
    notify_sms = BooleanField("Text the receipt to the client")


class ExpenseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=limits.EXPENSE_TITLE)])
    category = StringField("Category", validators=[DataRequired(), Length(max=limits.EXPENSE_CATEGORY)])
    amount = StringField("Amount", validators=[DataRequired()])
    currency = SelectField(
        "Currency", choices=[("", "Company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    expense_date = StringField("Date", render_kw={"type": "date"})
    payee = StringField("Payee", validators=[Optional(), Length(max=limits.EXPENSE_PAYEE)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=limits.EXPENSE_DESCRIPTION)])

    def to_data(self) -> dict:
        data = {
            "title": self.title.data,
            "category": self.category.data,
            "amount": self.amount.data,
            "expense_date": self.expense_date.data or None,
            "payee": self.payee.data or "",
            "description": self.description.data or "",
        }
        if self.currency.data:
            data["currency"] = self.currency.data
        return data


class DecisionForm(FlaskForm):
    note = TextAreaField("Note to the requester", validators=[Optional(), Length(max=limits.DECISION_NOTE)])


class SettingsForm(FlaskForm):
    company_name = StringField("Company name", validators=[DataRequired(), Length(max=200)])
    company_address = TextAreaField("Address", validators=[Optional(), Length(max=2000)])
    company_email = EmailField("E-mail", validators=[Optional(), Length(max=254)])
    company_phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    company_tax_id = StringField("Tax ID", validators=[Optional(), Length(max=60)])
    company_website = StringField("Website", validators=[Optional(), Length(max=200)])
    payment_instructions = TextAreaField(
        "Payment instructions (printed on invoices)", validators=[Optional(), Length(max=2000)]
    )
    invoice_number_format = StringField("Invoice number format", validators=[DataRequired(), Length(max=60)])
    receipt_number_format = StringField("Receipt number format", validators=[DataRequired(), Length(max=60)])
    default_currency = SelectField("Default currency", choices=[(c, c) for c in COMMON_CURRENCIES])
    payment_terms_days = StringField("Payment terms (days)", validators=[DataRequired()])
    tax_rounding = SelectField(
        "Tax rounding",
        choices=[
            (m, {"line": "Per line", "document": "Per rate over the whole invoice"}[m]) for m in TAX_ROUNDING_MODES
        ],
    )
    # A settings row made in this request is not flushed yet, so its paper_size is still None: A4, its default.
    paper_size = SelectField(
        "Paper size of PDFs",
        choices=[(size, size) for size in PAPER_SIZES],
        filters=[lambda value: value or PAPER_SIZES[0]],
    )
    reminder_offsets = StringField("Reminder days relative to the due date (e.g. -3, 0, 3)")
    reminder_repeat_days = StringField("Then repeat every N days (0 = never)")
    reminder_max = StringField("At most N reminders in all")

    FIELDS = (
        "company_name",
        "company_address",
        "company_email",
        "company_phone",
        "company_tax_id",
        "company_website",
        "payment_instructions",
        "invoice_number_format",
        "receipt_number_format",
        "default_currency",
        "payment_terms_days",
        "tax_rounding",
        "paper_size",
        "reminder_offsets",
        "reminder_repeat_days",
        "reminder_max",
    )

    def to_data(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.FIELDS}


class LogoForm(FlaskForm):
    logo = FileField("Logo (PNG or JPEG, at most 512 KB)")


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[(r, label(r)) for r in ROLES], default="staff")
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired(), Length(max=256)])


class ApiKeyForm(FlaskForm):
    name = StringField("Name (which system uses it)", validators=[DataRequired(), Length(max=100)])
    scope = SelectField(
        "Scope",
        choices=[("read", "Read only"), ("write", "Read and write"), ("admin", "Admin (also decides expenses)")],
        default="write",
    )


FIELD_ALIASES = {
    "discount.value": "discount_value",
    "discount.type": "discount_type",
    "discount": "discount_value",
    "items": "lines",
}


def show_errors(form: FlaskForm, exc: DomainError) -> None:
    """Put a service's refusal on the form: field messages next to fields, the rest flashed."""
    if not isinstance(exc, ValidationFailed):
        flash(exc.message, "error")
        return
    unplaced = []
    for path, messages in exc.errors.items():
        field = _field_for(form, FIELD_ALIASES.get(path, path))
        if field is None:
            unplaced += [f"{label(path.split('.')[-1])}: {m}" if "." not in path else f"{path}: {m}" for m in messages]
            continue
        field.errors = list(field.errors or []) + messages
    for message in unplaced:
        flash(message, "error")
    if not unplaced:
        flash("Please correct the marked fields.", "error")


def _field_for(form: FlaskForm, path: str):
    parts = path.split(".")
    if parts[0] == "items" and len(parts) == 3 and parts[1].isascii() and parts[1].isdigit() and hasattr(form, "lines"):
        rows = getattr(form, "item_rows", list(range(len(form.lines.entries))))
        index = int(parts[1])
        if index < len(rows):
            return getattr(form.lines.entries[rows[index]].form, parts[2], None)
        return None
    if parts[0] == "lines" and len(parts) == 1:
        return None
    return getattr(form, path, None) if len(parts) == 1 else None
