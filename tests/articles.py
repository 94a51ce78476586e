"""Articles written for the tests: one deal story, shared by the detection service and API tests."""

DEAL_TITLE = "Grab and GoTo confirm advanced merger talks"
HUNGATE_SAYS = "We have confirmed that talks with GoTo are progressing and both boards are engaged,"
DEAL_BODY = (
    "<p>Grab Holdings and GoTo have confirmed they are in advanced talks to merge their ride-hailing and food "
    "delivery businesses, the two companies said in a statement on Tuesday.</p>"
    "<p>The combined company would be valued at about US$30 billion and would keep listings in Jakarta and "
    "New York.</p>"
    f"<p>“{HUNGATE_SAYS}” said Alex Hungate, president of Grab.</p>"
    "<p>Regulators in Indonesia are expected to examine the deal closely before any agreement is signed.</p>"
)
