function Connect-BmsGraph {
    <#
    .SYNOPSIS
    Sets the Microsoft Graph credentials the migration steps of this session use.

    .DESCRIPTION
    Keeps the credentials Invoke-BmsMigrationStep and Invoke-BmsMigrationWave hand to the
    bms2intune binary for their Graph calls: an app registration's client secret (SecureString
    or PSCredential), the managed identity of an Azure VM or Automation account, or an access
    token from an existing Connect-MgGraph or Get-AzAccessToken session. A certificate (thumbprint
    in the Windows certificate store, or a .pfx/.pem file) is passed on as well, but this build of
    the binary refuses it ('graph.auth.unsupported'): use a secret or a managed identity there.

    Nothing is sent now: the credentials are checked by the first real (not -WhatIf) step. Each
    such request carries them in its "auth" params on the rpc process's standard input, never on a
    command line, in an environment variable or in a file; secrets stay SecureStrings in the
    module until then and the request is never written to the verbose stream. A dry run sends no
    credentials. Without Connect-BmsGraph the binary falls back to its environment variables
    (BMS2INTUNE_ACCESS_TOKEN, or BMS2INTUNE_TENANT_ID/CLIENT_ID/CLIENT_SECRET).

    Outputs a Bms2Intune.GraphConnection (tenant, method, client id, cloud).

    .PARAMETER TenantId
    The tenant: its id (GUID) or a verified domain such as contoso.onmicrosoft.com.

    .PARAMETER ClientId
    The application (client) id of the app registration; with -ManagedIdentity, the client id of
    a user-assigned identity.

    .PARAMETER ClientSecret
    The app's client secret, as a SecureString (for example from Get-Secret).

    .PARAMETER Credential
    The app's client id as user name and its client secret as password.

    .PARAMETER CertificateThumbprint
    Thumbprint of the app's certificate in the Windows certificate store.

    .PARAMETER CertificatePath
    A .pfx or .pem file holding the app's certificate and private key.

    .PARAMETER ManagedIdentity
    Use the managed identity of the Azure VM, Automation account or Function running this script.

    .PARAMETER AccessToken
    A Microsoft Graph access token (SecureString), e.g. (Get-AzAccessToken -ResourceUrl
    https://graph.microsoft.com -AsSecureString).Token. It is not renewed: long migrations should
    use an app registration or a managed identity.

    .PARAMETER UseMgGraphSession
    Take the access token of the current Connect-MgGraph session (Microsoft.Graph.Authentication).

    .PARAMETER Environment
    The national cloud: Global (default), USGov, USGovDoD or China. Sets the Graph and login
    endpoints the binary uses.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -ClientSecret (Get-Secret -Name Bms2IntuneSecret); Invoke-BmsMigrationStep -Workspace .\work -Step policies -Confirm:$false

    Uses a client secret kept in a SecretManagement vault to create the Intune policies.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -CertificatePath .\bms2intune.pfx; Invoke-BmsMigrationStep -Workspace .\work -Step policies -Confirm:$false

    Passes the app's certificate file; this build of the binary answers 'graph.auth.unsupported'.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.us -Credential (Get-Credential -UserName 11111111-2222-3333-4444-555555555555 -Message 'Client secret') -Environment USGov; Invoke-BmsMigrationStep -Workspace .\work -Step policies -Confirm:$false

    A US Government tenant, with the client id and a secret typed at the prompt.

    .EXAMPLE
    Connect-BmsGraph -ManagedIdentity -Environment USGovDoD; Invoke-BmsMigrationWave -Workspace .\work -Wave 0 -Sku EMS -Confirm:$false

    Licenses the pilot wave as the managed identity of the Azure Automation account running the
    job, in a US Government DoD tenant.

    .EXAMPLE
    Connect-BmsGraph -AccessToken (Get-AzAccessToken -ResourceUrl https://graph.microsoft.com -AsSecureString).Token; Invoke-BmsMigrationStep -Workspace .\work -Step policies -Confirm:$false

    Reuses the signed-in Az session's token.

    .INPUTS
    None.

    .OUTPUTS
    Bms2Intune.GraphConnection

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(DefaultParameterSetName = 'ClientSecret')]
    [OutputType('Bms2Intune.GraphConnection')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [Parameter(Mandatory, ParameterSetName = 'Credential')]
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [ValidateNotNullOrEmpty()]
        [string] $TenantId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [Parameter(ParameterSetName = 'ManagedIdentity')]
        [ValidatePattern('^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$')]
        [string] $ClientId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [ValidateNotNull()]
        [System.Security.SecureString] $ClientSecret,

        [Parameter(Mandatory, ParameterSetName = 'Credential')]
        [ValidateNotNull()]
        [System.Management.Automation.PSCredential] $Credential,

        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [ValidatePattern('^[0-9a-fA-F]{40}$')]
        [string] $CertificateThumbprint,

        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
        [string] $CertificatePath,

        [Parameter(Mandatory, ParameterSetName = 'ManagedIdentity')]
        [switch] $ManagedIdentity,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [ValidateNotNull()]
        [System.Security.SecureString] $AccessToken,

        [Parameter(Mandatory, ParameterSetName = 'MgGraphSession')]
        [switch] $UseMgGraphSession,

        [ValidateSet('Global', 'USGov', 'USGovDoD', 'China')]
        [string] $Environment = 'Global'
    )
    try {
        $set = $PSCmdlet.ParameterSetName
        $tenant = $TenantId
        $client = $ClientId
        $secret = $ClientSecret
        if ($set -eq 'Credential') {
            $client = $Credential.UserName
            $secret = $Credential.Password
            if ($client -notmatch '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$') {
                $record = ConvertTo-BmsErrorRecord -Code 'module.invalid_client_id' -Category InvalidArgument -Message "The credential's user name '$client' is not an application (client) id (a GUID)."
                $PSCmdlet.ThrowTerminatingError($record)
            }
        }
        $token = $AccessToken
        if ($set -eq 'MgGraphSession') {
            if (-not (Get-Command -Name Invoke-MgGraphRequest -ErrorAction SilentlyContinue)) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.mggraph_not_connected' -Category ConnectionError -Message 'Invoke-MgGraphRequest is not available; Import-Module Microsoft.Graph.Authentication and Connect-MgGraph first.'
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $response = Invoke-MgGraphRequest -Method GET -Uri 'v1.0/organization?$select=id' -OutputType HttpResponseMessage -ErrorAction Stop
            $bearer = $response.RequestMessage.Headers.Authorization.Parameter
            if (-not $bearer) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.mggraph_not_connected' -Category ConnectionError -Message 'The Connect-MgGraph session gave no access token; run Connect-MgGraph again.'
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $token = ConvertTo-BmsSecureString -Text $bearer
            $bearer = $null
        }
        $method = switch ($set) {
            'ClientSecret' { 'client_secret' }
            'Credential' { 'client_secret' }
            'CertificateThumbprint' { 'certificate' }
            'CertificatePath' { 'certificate' }
            'ManagedIdentity' { 'managed_identity' }
            default { 'access_token' }
        }
        $certFile = $null
        if ($set -eq 'CertificatePath') { $certFile = Resolve-BmsPath -Path $CertificatePath }
        $thumbprint = $CertificateThumbprint

        # Built again for every request, so a secret is plain text only while its request is
        # written. The closure cannot see the module's private functions (GetNewClosure binds it
        # to a new module), hence the inline SecureString conversion.
        $script:BmsGraphAuth = {
            $auth = [ordered]@{}
            $auth['method'] = $method
            if ($method -eq 'client_secret' -or $method -eq 'certificate') { $auth['tenant_id'] = $tenant }
            if ($client) { $auth['client_id'] = $client }
            if ($method -eq 'client_secret') { $auth['client_secret'] = (New-Object System.Management.Automation.PSCredential -ArgumentList 'bms2intune', $secret).GetNetworkCredential().Password }
            if ($method -eq 'access_token') { $auth['access_token'] = (New-Object System.Management.Automation.PSCredential -ArgumentList 'bms2intune', $token).GetNetworkCredential().Password }
            if ($certFile) { $auth['certificate_path'] = $certFile }
            if ($thumbprint) { $auth['thumbprint'] = $thumbprint }
            $auth
        }.GetNewClosure()

        # National clouds: the Graph and login endpoints the binary calls.
        $script:BmsGraphEndpoints = switch ($Environment) {
            'USGov' { [ordered]@{ graph_url = 'https://graph.microsoft.us'; login_url = 'https://login.microsoftonline.us' } }
            'USGovDoD' { [ordered]@{ graph_url = 'https://dod-graph.microsoft.us'; login_url = 'https://login.microsoftonline.us' } }
            'China' { [ordered]@{ graph_url = 'https://microsoftgraph.chinacloudapi.cn'; login_url = 'https://login.chinacloudapi.cn' } }
            default { [ordered]@{} }
        }
        [pscustomobject][ordered]@{
            PSTypeName = 'Bms2Intune.GraphConnection'
            TenantId   = $tenant
            Method     = $method
            ClientId   = $client
            Cloud      = $Environment
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
