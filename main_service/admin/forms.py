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
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shared import limits
from shared.actors import Notify
from shared.documents.formatting import DECIMAL_SYMBOL, GROUP_SYMBOL
from shared.errors import DomainError, ValidationFailed
from shared.inputs import (
    UNSET,
    ApplyCreditInput,
    ClientChanges,
    ClientInput,
    CreditNoteInput,
    DiscountInput,
    ExpenseChanges,
    ExpenseInput,
    InvoiceChanges,
    InvoiceDraft,
    ItemInput,
    PaymentInput,
    QuoteChanges,
    QuoteDraft,
    RecurringInvoiceChanges,
    RecurringInvoiceInput,
    RefundInput,
    SettingsChanges,
    WebhookEndpointChanges,
    WebhookEndpointInput,
)
from shared.models.enums import (
    ALL_WEBHOOK_EVENTS,
    CLIENT_TYPES,
    PAPER_SIZES,
    PAYMENT_METHODS,
    RECURRING_INTERVALS,
    ROLES,
    TAX_ROUNDING_MODES,
    WEBHOOK_EVENT_TYPES,
    EInvoiceFormat,
    RecurringMode,
    TaxCategory,
)
from shared.parsing import NUL_MESSAGE, to_grouped_decimal
from shared.regions import countries, time_zones

TAX_CATEGORY_LABELS = {
    TaxCategory.STANDARD: "standard rate",
    TaxCategory.ZERO_RATED: "zero rated",
    TaxCategory.EXEMPT: "exempt",
    TaxCategory.REVERSE_CHARGE: "reverse charge",
    TaxCategory.INTRA_COMMUNITY: "intra-community supply",
    TaxCategory.EXPORT: "export outside the EU",
}

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


class AmountField(StringField):
    """A number typed the way the pages show it (``1,200.00``): ``data`` is a ``Decimal``, or None when blank.

    The one parser of admin form amounts (``shared.parsing.to_grouped_decimal``
    with the display format's separators); a misplaced separator or a letter is
    a message on the field. The services still check bounds and currency decimals.
    """

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data = None
        if not text:
            return
        try:
            self.data = to_grouped_decimal(
                text, self.name, group=GROUP_SYMBOL, point=DECIMAL_SYMBOL, places=limits.DECIMAL_PLACES
            )
        except ValidationFailed as exc:
            raise ValueError(exc.errors[self.name][0]) from None


def label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=limits.EMAIL)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=limits.MAX_PASSWORD)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=limits.MAX_PASSWORD)])
    new_password = PasswordField(
        f"New password (at least {limits.MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(max=limits.MAX_PASSWORD)],
    )
    repeat_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="Does not match the new password.")],
    )


class ConfirmForm(FlaskForm):
    """Only a CSRF token: for buttons that change state (archive, retry, sign out...)."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=limits.VOID_REASON)])


class AcceptQuoteForm(FlaskForm):
    """The client accepts a quote on its public page by typing their name (SPEC §13)."""

    name = StringField(
        "Your full name", validators=[DataRequired("type your name to accept"), Length(max=limits.QUOTE_ACCEPTED_BY)]
    )


class DeclineQuoteForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=limits.QUOTE_DECLINE_REASON)])


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=limits.CLIENT_NAME)])
    client_type = SelectField("Type", choices=[(t, label(t)) for t in CLIENT_TYPES], default="individual")
    email = EmailField("E-mail", validators=[Optional(), Length(max=limits.EMAIL)])
    phone = StringField("Phone", validators=[Optional(), Length(max=limits.PHONE)])
    billing_address = TextAreaField("Billing address", validators=[Optional(), Length(max=limits.ADDRESS)])
    postal_address = TextAreaField("Postal address", validators=[Optional(), Length(max=limits.ADDRESS)])
    default_currency = SelectField(
        "Default currency", choices=[("", "Company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    country = SelectField("Country", choices=lambda: country_choices(), default="")
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=limits.VAT_ID)])
    street = StringField("Street", validators=[Optional(), Length(max=limits.STREET)])
    city = StringField("City", validators=[Optional(), Length(max=limits.CITY)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=limits.POSTAL_CODE)])
    sms_opt_in = BooleanField("Send reminders by SMS too")
    reminders_opt_out = BooleanField("Never send payment reminders")

    def to_input(self) -> ClientInput:
        """The new client as entered."""
        return ClientInput(**self._entered())

    def to_changes(self) -> ClientChanges:
        """The editor shows every field, so every field is given."""
        return ClientChanges(**self._entered())

    def _entered(self) -> dict:
        return {
            "name": self.name.data,
            "client_type": self.client_type.data,
            "email": self.email.data or "",
            "phone": self.phone.data or "",
            "billing_address": self.billing_address.data or "",
            "postal_address": self.postal_address.data or "",
            "default_currency": self.default_currency.data or "",
            **{name: getattr(self, name).data or "" for name in ("country", "vat_id", "street", "city", "postal_code")},
            "sms_opt_in": bool(self.sms_opt_in.data),
            "reminders_opt_out": bool(self.reminders_opt_out.data),
        }


class LineForm(Form):
    description = TextAreaField("Description", validators=[Length(max=limits.LINE_DESCRIPTION)])
    quantity = AmountField("Quantity", default="1")
    unit_price = AmountField("Unit price")
    tax_rate = AmountField("Tax %", default="0")
    # SPEC §16, for e-invoices; blank means C62 and S (rate above 0) or Z.
    unit = StringField("Unit (UN/ECE code)", validators=[Optional(), Length(max=limits.UNIT_CODE)])
    tax_category = SelectField(
        "Tax category",
        choices=[("", "Automatic (S, or Z at 0 %)")]
        + [(c.value, f"{c.value}: {TAX_CATEGORY_LABELS[c]}") for c in TaxCategory],
        default="",
    )
    tax_exemption_reason = StringField(
        "Exemption reason (E, AE, K, G)", validators=[Optional(), Length(max=limits.TAX_EXEMPTION_REASON)]
    )


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
    discount_value = AmountField("Discount value")
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=limits.MAX_LINES)
    # The editor (admin/invoices/_editor.html) shows these date fields after the currency.
    DATE_FIELDS = ("issue_date", "due_date")

    def to_draft(self) -> InvoiceDraft:
        """The new invoice as entered; no currency chosen means the client's or the company's."""
        return InvoiceDraft(**self._entered(), currency=self.currency.data or None)

    def to_changes(self) -> InvoiceChanges:
        """The editor shows every field, so every field is given; the currency only when chosen."""
        return InvoiceChanges(**self._entered(), currency=self.currency.data or UNSET)

    def _entered(self) -> dict:
        # Wholly blank rows are left out; remember which rows became which items
        # so an error on items.N lands on the right row.
        self.item_rows = [
            index
            for index, line in enumerate(entry.form for entry in self.lines.entries)
            if (line.description.data or "").strip() or line.unit_price.data not in (None, "")
        ]
        return {
            "client_id": self.client_id.data or None,
            **{name: self[name].data or None for name in self.DATE_FIELDS},
            "purchase_order": self.purchase_order.data or "",
            "notes": self.notes.data or "",
            "discount": DiscountInput(type=self.discount_type.data, value=self.discount_value.data or "0")
            if self.discount_type.data
            else None,
            "items": [
                ItemInput(
                    description=line.description.data or "",
                    quantity=line.quantity.data,
                    unit_price=line.unit_price.data,
                    tax_rate=line.tax_rate.data if line.tax_rate.data not in (None, "") else "0",
                    unit=line.unit.data or "",
                    tax_category=line.tax_category.data or "",
                    tax_exemption_reason=line.tax_exemption_reason.data or "",
                )
                for line in (self.lines.entries[index].form for index in self.item_rows)
            ],
        }


RECURRING_MODE_CHOICES = [
    (RecurringMode.SEND.value, "Issue and e-mail each invoice"),
    (RecurringMode.ISSUE.value, "Issue each invoice, do not e-mail it"),
    (RecurringMode.DRAFT.value, "Leave a draft to review and send by hand"),
]


class RecurringInvoiceForm(FlaskForm):
    """A recurring invoice (SPEC §12): the lines of an invoice and a schedule."""

    client_id = SelectField("Client", coerce=str, validators=[DataRequired()])
    currency = SelectField(
        "Currency", choices=[("", "Client's or company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    purchase_order = StringField("Purchase order", validators=[Optional(), Length(max=limits.PURCHASE_ORDER)])
    notes = TextAreaField("Notes to the client", validators=[Optional(), Length(max=limits.INVOICE_NOTES)])
    discount_type = InvoiceForm.discount_type
    discount_value = AmountField("Discount value")
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=limits.MAX_LINES)
    interval_count = StringField("Every", default="1", render_kw={"inputmode": "numeric"})
    interval = SelectField("Interval", choices=[(i, f"{i}(s)") for i in RECURRING_INTERVALS], default="month")
    start_date = StringField("First run", render_kw={"type": "date"})
    end_date = StringField("Last run on or before (optional)", render_kw={"type": "date"})
    max_runs = StringField("At most this many invoices (optional)", render_kw={"inputmode": "numeric"})
    payment_terms_days = StringField("Payment terms (days after each run)", render_kw={"inputmode": "numeric"})
    mode = SelectField("Each run", choices=RECURRING_MODE_CHOICES, default=RecurringMode.SEND.value)
    backfill = BooleanField("Also make the runs dated before today (backfill)")

    def _entered(self) -> dict:
        # As the invoice editor: wholly blank rows are left out, and item_rows maps items.N to its row.
        self.item_rows = [
            index
            for index, line in enumerate(entry.form for entry in self.lines.entries)
            if (line.description.data or "").strip() or line.unit_price.data not in (None, "")
        ]
        return {
            "client_id": self.client_id.data or None,
            "items": [
                ItemInput(
                    description=line.description.data or "",
                    quantity=line.quantity.data,
                    unit_price=line.unit_price.data,
                    tax_rate=line.tax_rate.data if line.tax_rate.data not in (None, "") else "0",
                )
                for line in (self.lines.entries[index].form for index in self.item_rows)
            ],
            "discount": DiscountInput(type=self.discount_type.data, value=self.discount_value.data or "0")
            if self.discount_type.data
            else None,
            "notes": self.notes.data or "",
            "purchase_order": self.purchase_order.data or "",
            "interval": self.interval.data,
            "interval_count": (self.interval_count.data or "").strip(),
            "start_date": self.start_date.data or None,
            "end_date": self.end_date.data or None,
            "max_runs": (self.max_runs.data or "").strip() or None,
            "payment_terms_days": (self.payment_terms_days.data or "").strip() or None,
            "mode": self.mode.data,
        }

    def to_input(self) -> RecurringInvoiceInput:
        return RecurringInvoiceInput(
            **self._entered(), currency=self.currency.data or None, backfill=bool(self.backfill.data)
        )

    def to_changes(self) -> RecurringInvoiceChanges:
        """The editor shows every field, so every field is given; the currency only when chosen."""
        return RecurringInvoiceChanges(**self._entered(), currency=self.currency.data or UNSET)


class QuoteForm(InvoiceForm):
    """The invoice editor's fields with ``valid_until`` in place of the due date (SPEC §13)."""

    due_date = None
    valid_until = StringField("Valid until", render_kw={"type": "date"})
    DATE_FIELDS = ("issue_date", "valid_until")

    def to_quote(self) -> QuoteDraft:
        return QuoteDraft(**self._entered(), currency=self.currency.data or None)

    def to_quote_changes(self) -> QuoteChanges:
        return QuoteChanges(**self._entered(), currency=self.currency.data or UNSET)


class ConvertForm(FlaskForm):
    issue = BooleanField("Issue the invoice now (it takes its number)", default=True)
    email = BooleanField("E-mail the invoice to the client", default=True)


class QuoteSendForm(FlaskForm):
    email = BooleanField("E-mail with the PDF attached and a link to accept", default=True)


def offer_channels(
    email: BooleanField, sms: BooleanField, can: Notify, *, sms_ticked: bool, submitted: bool = False
) -> None:
    """Untick and disable the channels the client cannot be reached on (``shared.messages.queue.reachable``).

    On a fresh form, e-mail is ticked where there is an address and SMS where
    ``sms_ticked`` asks for it; a submitted form keeps what was chosen.
    """
    if not submitted:
        email.data = can.email
        sms.data = can.sms and sms_ticked
    for box, possible in ((email, can.email), (sms, can.sms)):
        if not possible:
            box.data = False
            box.render_kw = {**(box.render_kw or {}), "disabled": True}


class SendForm(FlaskForm):
    email = BooleanField("E-mail with the PDF attached", default=True)
    sms = BooleanField("SMS with the link")
    # "issue" from the review page, "resend" from an issued invoice: a second
    # submit of the review form must not turn into a resend.
    intent = HiddenField(default="resend")


class PaymentForm(FlaskForm):
    amount = AmountField("Amount", validators=[InputRequired()])
    paid_on = StringField("Date received", render_kw={"type": "date"})
    method = SelectField("Method", choices=[(m, label(m)) for m in PAYMENT_METHODS], default="bank_transfer")
    reference = StringField("Reference", validators=[Optional(), Length(max=limits.PAYMENT_REFERENCE)])
    note = TextAreaField(
        "Note on the receipt (the client sees it)", validators=[Optional(), Length(max=limits.PAYMENT_NOTE)]
    )
    internal_note = TextAreaField(
        "Internal note (staff only, never on the receipt)",
        validators=[Optional(), Length(max=limits.PAYMENT_INTERNAL_NOTE)],
    )
    notify_email = BooleanField("E-mail the receipt to the client", default=True)
    notify_sms = BooleanField("Text the receipt to the client")

    def to_input(self) -> PaymentInput:
        return PaymentInput(
            amount=self.amount.data if self.amount.data is not None else "",
            paid_on=self.paid_on.data or None,
            method=self.method.data,
            reference=self.reference.data or "",
            note=self.note.data or "",
            internal_note=self.internal_note.data or "",
        )


class CreditNoteForm(FlaskForm):
    """SPEC §11: credit the whole invoice, or chosen lines by an amount before tax (each line keeps its rate)."""

    scope = RadioField(
        "What to credit",
        choices=[("full", "The whole invoice"), ("lines", "Chosen lines and amounts")],
        default="full",
    )
    line_amounts = FieldList(AmountField("Amount to credit, before tax"), min_entries=0)
    reason = TextAreaField(
        "Reason (printed on the credit note)",
        validators=[DataRequired(), Length(max=limits.CREDIT_NOTE_REASON)],
    )
    issue_date = StringField("Credit note date", render_kw={"type": "date"})
    notify_email = BooleanField("E-mail the credit note to the client", default=True)

    def to_input(self, lines) -> CreditNoteInput:
        """The credit note as chosen; a line left blank is not credited."""
        reason, issue_date = self.reason.data or "", self.issue_date.data or None
        if self.scope.data != "lines":
            return CreditNoteInput(reason=reason, full=True, issue_date=issue_date)
        items = [
            ItemInput(description=line.description, quantity="1", unit_price=entry.data, tax_rate=line.tax_rate)
            for line, entry in zip(lines, self.line_amounts, strict=False)
            if entry.data is not None
        ]
        return CreditNoteInput(reason=reason, items=items, issue_date=issue_date)


class ApplyCreditForm(FlaskForm):
    invoice_id = SelectField("Invoice", coerce=str, validate_choice=False)
    amount = AmountField("Amount of credit to apply", validators=[InputRequired()])

    def to_input(self) -> ApplyCreditInput:
        return ApplyCreditInput(amount=self.amount.data if self.amount.data is not None else "")


class RefundForm(FlaskForm):
    currency = SelectField("Currency", validate_choice=False)
    amount = AmountField("Amount to refund", validators=[InputRequired()])
    refunded_on = StringField("Date refunded", render_kw={"type": "date"})
    method = SelectField("Method", choices=[(m, label(m)) for m in PAYMENT_METHODS], default="bank_transfer")
    reference = StringField("Reference", validators=[Optional(), Length(max=limits.PAYMENT_REFERENCE)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=limits.PAYMENT_NOTE)])
    confirm = BooleanField(
        "I have paid this amount back to the client", validators=[DataRequired("tick to confirm the refund")]
    )

    def to_input(self) -> RefundInput:
        return RefundInput(
            currency=self.currency.data or None,
            amount=self.amount.data if self.amount.data is not None else "",
            method=self.method.data,
            reference=self.reference.data or "",
            refunded_on=self.refunded_on.data or None,
            note=self.note.data or "",
        )


class ExpenseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=limits.EXPENSE_TITLE)])
    category = StringField("Category", validators=[DataRequired(), Length(max=limits.EXPENSE_CATEGORY)])
    amount = AmountField("Amount", validators=[InputRequired()])
    currency = SelectField(
        "Currency", choices=[("", "Company default")] + [(c, c) for c in COMMON_CURRENCIES], default=""
    )
    expense_date = StringField("Date", render_kw={"type": "date"})
    payee = StringField("Payee", validators=[Optional(), Length(max=limits.EXPENSE_PAYEE)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=limits.EXPENSE_DESCRIPTION)])

    def to_input(self) -> ExpenseInput:
        """The new expense as entered; no currency chosen means the company's."""
        return ExpenseInput(**self._entered(), currency=self.currency.data or None)

    def to_changes(self) -> ExpenseChanges:
        """The editor shows every field, so every field is given; the currency only when chosen."""
        return ExpenseChanges(**self._entered(), currency=self.currency.data or UNSET)

    def _entered(self) -> dict:
        return {
            "title": self.title.data,
            "category": self.category.data,
            "amount": self.amount.data,
            "expense_date": self.expense_date.data or None,
            "payee": self.payee.data or "",
            "description": self.description.data or "",
        }


class DecisionForm(FlaskForm):
    note = TextAreaField("Note to the requester", validators=[Optional(), Length(max=limits.DECISION_NOTE)])


def country_choices() -> list[tuple[str, str]]:
    return [("", "Choose a country")] + [(code, f"{name} ({code})") for code, name in countries().items()]


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zones()]


class CompanyPlaceFields:
    """Country, currency and time zone: on the settings form and the first-run setup."""

    def offer_currency(self, code: str | None) -> None:
        """A saved currency outside the common list stays choosable."""
        if code and (code, code) not in self.default_currency.choices:
            self.default_currency.choices.append((code, code))


class SettingsForm(CompanyPlaceFields, FlaskForm):
    company_name = StringField("Company name", validators=[DataRequired(), Length(max=limits.COMPANY_NAME)])
    company_address = TextAreaField("Address", validators=[Optional(), Length(max=limits.COMPANY_ADDRESS)])
    company_email = EmailField("E-mail", validators=[Optional(), Length(max=limits.EMAIL)])
    company_phone = StringField("Phone", validators=[Optional(), Length(max=limits.COMPANY_PHONE)])
    company_tax_id = StringField("Tax ID", validators=[Optional(), Length(max=limits.COMPANY_TAX_ID)])
    company_website = StringField("Website", validators=[Optional(), Length(max=limits.COMPANY_WEBSITE)])
    payment_instructions = TextAreaField(
        "Payment instructions (printed on invoices)", validators=[Optional(), Length(max=limits.PAYMENT_INSTRUCTIONS)]
    )
    account_holder = StringField("Account holder", validators=[Optional(), Length(max=limits.ACCOUNT_HOLDER)])
    iban = StringField("IBAN", validators=[Optional(), Length(max=limits.IBAN_TYPED)])
    bic = StringField("BIC (optional)", validators=[Optional(), Length(max=limits.BIC_TYPED)])
    invoice_number_format = StringField(
        "Invoice number format", validators=[DataRequired(), Length(max=limits.NUMBER_FORMAT)]
    )
    receipt_number_format = StringField(
        "Receipt number format", validators=[DataRequired(), Length(max=limits.NUMBER_FORMAT)]
    )
    credit_note_number_format = StringField(
        "Credit note number format", validators=[Optional(), Length(max=limits.NUMBER_FORMAT)]
    )
    quote_number_format = StringField(
        "Quote number format", validators=[DataRequired(), Length(max=limits.NUMBER_FORMAT)]
    )
    default_currency = SelectField("Default currency", choices=[(c, c) for c in COMMON_CURRENCIES])
    country = SelectField("Country", choices=country_choices, default="")
    time_zone = SelectField("Time zone", choices=time_zone_choices, default="UTC")
    paper_size = SelectField("Paper size", choices=[(p, p) for p in PAPER_SIZES], default="A4")
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
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=limits.VAT_ID)])
    street = StringField("Street", validators=[Optional(), Length(max=limits.STREET)])
    city = StringField("City", validators=[Optional(), Length(max=limits.CITY)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=limits.POSTAL_CODE)])
    einvoice_format = SelectField(
        "E-invoice in the invoice e-mail",
        choices=[
            (EInvoiceFormat.NONE.value, "None: the PDF only"),
            (EInvoiceFormat.FACTURX.value, "Factur-X PDF instead of the plain PDF"),
            (EInvoiceFormat.UBL.value, "UBL XML file beside the PDF"),
        ],
        default=EInvoiceFormat.NONE.value,
    )

    FIELDS = (
        "vat_id",
        "street",
        "city",
        "postal_code",
        "einvoice_format",
        "company_name",
        "company_address",
        "company_email",
        "company_phone",
        "company_tax_id",
        "company_website",
        "payment_instructions",
        "account_holder",
        "iban",
        "bic",
        "invoice_number_format",
        "receipt_number_format",
        "quote_number_format",
        "default_currency",
        "country",
        "time_zone",
        "paper_size",
        "payment_terms_days",
        "tax_rounding",
        "paper_size",
        "reminder_offsets",
        "reminder_repeat_days",
        "reminder_max",
    )

    def to_changes(self) -> SettingsChanges:
        """The page shows every setting, so every setting is given (a blank credit-note format keeps the current one)."""
        changes = {name: getattr(self, name).data or "" for name in self.FIELDS}
        if self.credit_note_number_format.data:
            changes["credit_note_number_format"] = self.credit_note_number_format.data
        return SettingsChanges(**changes)


class SetupForm(CompanyPlaceFields, FlaskForm):
    company_name = StringField("Company name", validators=[DataRequired(), Length(max=limits.COMPANY_NAME)])
    country = SelectField("Country", choices=country_choices, default="")
    default_currency = SelectField("Currency of new invoices", choices=[(c, c) for c in COMMON_CURRENCIES])
    time_zone = SelectField("Time zone", choices=time_zone_choices, default="UTC")
    current_password = PasswordField("Current password (the generated one)", validators=[Optional(), Length(max=256)])
    new_password = PasswordField("New password (at least 10 characters)", validators=[Optional(), Length(max=256)])
    repeat_password = PasswordField(
        "New password again", validators=[EqualTo("new_password", message="does not match the new password")]
    )

    FIELDS = ("company_name", "country", "default_currency", "time_zone")

    def to_data(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.FIELDS}


class LogoForm(FlaskForm):
    logo = FileField("Logo (PNG or JPEG, at most 512 KB)")


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=limits.EMAIL)])
    name = StringField("Name", validators=[DataRequired(), Length(max=limits.USER_NAME)])
    role = SelectField("Role", choices=[(r, label(r)) for r in ROLES], default="staff")
    password = PasswordField(
        f"Password (at least {limits.MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(max=limits.MAX_PASSWORD)],
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[(r, label(r)) for r in ROLES])


class PasswordResetForm(FlaskForm):
    new_password = PasswordField("New password (at least 10 characters)", validators=[DataRequired(), Length(max=256)])
    repeat_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="does not match the new password")],
    )


class ApiKeyForm(FlaskForm):
    name = StringField("Name (which system uses it)", validators=[DataRequired(), Length(max=limits.API_KEY_NAME)])
    scope = SelectField(
        "Scope",
        choices=[("read", "Read only"), ("write", "Read and write"), ("admin", "Admin (also decides expenses)")],
        default="write",
    )


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookEndpointForm(FlaskForm):
    url = StringField("URL (https:// recommended)", validators=[DataRequired(), Length(max=limits.WEBHOOK_URL)])
    events = CheckboxesField(
        "Events",
        choices=[
            (ALL_WEBHOOK_EVENTS, "All events, including ones added later"),
            *[(t, t) for t in WEBHOOK_EVENT_TYPES],
        ],
        default=[ALL_WEBHOOK_EVENTS],
    )
    enabled = BooleanField("Enabled", default=True)
    description = StringField("Description", validators=[Optional(), Length(max=limits.WEBHOOK_DESCRIPTION)])

    def _entered(self) -> dict:
        return {
            "url": self.url.data or "",
            "events": list(self.events.data or []),
            "enabled": bool(self.enabled.data),
            "description": self.description.data or "",
        }

    def to_input(self) -> WebhookEndpointInput:
        return WebhookEndpointInput(**self._entered())

    def to_changes(self) -> WebhookEndpointChanges:
        """The editor shows every field, so every field is given."""
        return WebhookEndpointChanges(**self._entered())


FIELD_ALIASES = {
    "discount.value": "discount_value",
    "discount.type": "discount_type",
    "discount": "discount_value",
    "items": "lines",
    "notify.email": "notify_email",
    "notify.sms": "notify_sms",
}


# Labels for paths a form has no field for (the send and receipt choices are named apart).
PATH_LABELS = {
    "notify": "Send by",
    "notify.email": "E-mail",
    "notify.sms": "SMS",
    "items": "Lines",
    "lines": "Lines",
    "body": "The form",
}

# A message starting with one of these words reads as the end of "<field label> ...".
_PREDICATES = {"must", "is", "are", "cannot", "can", "may", "has", "have", "does", "do", "should", "was"}


def sentence(text: str) -> str:
    """A message as a person reads it: a capital first letter and a full stop."""
    text = " ".join(str(text).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _is_predicate(message: str) -> bool:
    return message.split(" ", 1)[0].lower() in _PREDICATES


def _path_label(form: FlaskForm | None, path: str) -> str:
    """The words a person sees for a field path: the form's label, else a name made for people."""
    field = field_for(form, path)
    if field is not None and field.label.text:
        return field.label.text
    if path in PATH_LABELS:
        return PATH_LABELS[path]
    parts = path.split(".")
    if parts[0] == "items" and len(parts) == 3 and parts[1].isascii() and parts[1].isdigit():
        return f"Line {int(parts[1]) + 1}, {label(parts[2]).lower()}"
    return label(parts[-1])


def field_message(message: str) -> str:
    """A message shown under its field, whose label already names it."""
    return sentence(message)


def refusal_message(form: FlaskForm | None, path: str, message: str) -> str:
    """A message about a field, shown on its own: "Amount must be more than 0."."""
    if _is_predicate(message):
        return sentence(f"{_path_label(form, path)} {message}")
    return sentence(message)


def show_errors(form: FlaskForm | None, exc: DomainError) -> None:
    """The one place the admin turns a domain refusal into words for people.

    Field messages go next to their fields (marked), the rest are flashed as
    sentences that name fields by their labels, never by their API paths.
    """
    if not isinstance(exc, ValidationFailed):
        field = field_for(form, exc.field) if exc.field else None
        if field is not None:
            field.errors = [*(field.errors or []), field_message(exc.message)]
            flash("Please correct the marked fields.", "error")
        else:
            flash(sentence(exc.message), "error")
        return
    unplaced = []
    for path, messages in exc.errors.items():
        field = field_for(form, path)
        if field is None:
            unplaced += [refusal_message(form, path, m) for m in messages]
            continue
        field.errors = list(field.errors or []) + [field_message(m) for m in messages]
    for message in unplaced:
        flash(message, "error")
    if not unplaced:
        flash("Please correct the marked fields.", "error")


def field_for(form: FlaskForm | None, path: str):
    """The form's input a service's field path names (``items.0.quantity``, ``discount.value``), or None.

    Never another attribute of the form.
    """
    if form is None:
        return None
    found = _attribute_for(form, FIELD_ALIASES.get(path, path))
    return found if isinstance(found, Field) and not isinstance(found, FieldList) else None


def _attribute_for(form: FlaskForm, path: str):
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
