//! Graph: the only HTTP client (auth, paging, $batch, throttling, retries). Not built yet:
//! nothing in this build talks to Microsoft Graph.
