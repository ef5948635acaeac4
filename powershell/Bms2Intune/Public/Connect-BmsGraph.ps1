function Connect-BmsGraph {
    <#
    .SYNOPSIS
    Connects the session's bms2intune process to Microsoft Graph for importing from and changing the tenant.

    .DESCRIPTION
    Gives the bms2intune process the credentials it uses to call Microsoft Graph: an app
    registration's client secret (SecureString or PSCredential) or certificate (thumbprint in the
    Windows certificate store, or a .pfx file), the managed identity of an Azure VM or Automation
    account, or an access token from an existing Connect-MgGraph or Get-AzAccessToken session.

    Secrets cross to the binary only inside the JSON request on the process's standard input,
    never on a command line, in an environment variable or in a file, and are never written to the
    verbose stream. If the bms2intune process restarts, the module reconnects it the same way.

    Outputs a Bms2Intune.GraphConnection (tenant, auth kind, token expiry, granted permissions).

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
    Thumbprint of the app's certificate in Cert:\CurrentUser\My or Cert:\LocalMachine\My
    (Windows). Its private key must be exportable; otherwise use -CertificatePath.

    .PARAMETER CertificatePath
    A .pfx file holding the app's certificate and private key.

    .PARAMETER CertificatePassword
    The password of the .pfx file.

    .PARAMETER ManagedIdentity
    Use the managed identity of the Azure VM, Automation account or Function running this script.

    .PARAMETER AccessToken
    A Microsoft Graph access token (SecureString), e.g. (Get-AzAccessToken -ResourceUrl
    https://graph.microsoft.com -AsSecureString).Token. It is not renewed: long migrations should
    use an app registration or a managed identity.

    .PARAMETER UseMgGraphSession
    Take the access token of the current Connect-MgGraph session (Microsoft.Graph.Authentication).

    .PARAMETER Environment
    The national cloud: Global (default), USGov, USGovDoD or China.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -ClientSecret (Get-Secret -Name Bms2IntuneSecret)

    Connects with a client secret kept in a SecretManagement vault.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -CertificatePath .\bms2intune.pfx -CertificatePassword (Get-Secret -Name Bms2IntunePfx)

    Connects with the app's certificate from a .pfx file.

    .EXAMPLE
    Connect-BmsGraph -TenantId contoso.onmicrosoft.us -Credential (Get-Credential -UserName 11111111-2222-3333-4444-555555555555 -Message 'Client secret') -Environment USGov

    Connects to a US Government tenant with the client id and a secret typed at the prompt.

    .EXAMPLE
    Connect-BmsGraph -ManagedIdentity

    Connects as the managed identity of the Azure Automation account running the job.

    .EXAMPLE
    Connect-BmsGraph -AccessToken (Get-AzAccessToken -ResourceUrl https://graph.microsoft.com -AsSecureString).Token

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

        [Parameter(ParameterSetName = 'CertificatePath')]
        [System.Security.SecureString] $CertificatePassword,

        [Parameter(Mandatory, ParameterSetName = 'ManagedIdentity')]
        [switch] $ManagedIdentity,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [ValidateNotNull()]
        [System.Security.SecureString] $AccessToken,

        [Parameter(Mandatory, ParameterSetName = 'MgGraphSession')]
        [switch] $UseMgGraphSession,

        [ValidateSet('Global', 'USGov', 'USGovDoD', 'China')]
        [string] $Environment
    )
    try {
        $set = $PSCmdlet.ParameterSetName
        $cloud = $null
        if ($Environment) { $cloud = $Environment.ToLowerInvariant() }
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
        $pfx = $null
        $pfxPassword = $CertificatePassword
        if ($set -eq 'CertificatePath') {
            $full = Resolve-BmsPath -Path $CertificatePath
            $pfx = [System.Convert]::ToBase64String([System.IO.File]::ReadAllBytes($full))
        } elseif ($set -eq 'CertificateThumbprint') {
            $cert = $null
            foreach ($store in @('Cert:\CurrentUser\My', 'Cert:\LocalMachine\My')) {
                $candidate = Join-Path -Path $store -ChildPath $CertificateThumbprint
                if (Test-Path -LiteralPath $candidate) { $cert = Get-Item -LiteralPath $candidate; break }
            }
            if (-not $cert) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.certificate_not_found' -Category ObjectNotFound -Message "No certificate with thumbprint $CertificateThumbprint in Cert:\CurrentUser\My or Cert:\LocalMachine\My (Windows only); use -CertificatePath with a .pfx file elsewhere."
                $PSCmdlet.ThrowTerminatingError($record)
            }
            if (-not $cert.HasPrivateKey) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.certificate_no_key' -Category InvalidArgument -Message "The certificate $CertificateThumbprint has no private key in this store; import the .pfx or use -CertificatePath."
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $plainPassword = [guid]::NewGuid().ToString('N')
            try {
                $bytes = $cert.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $plainPassword)
            } catch {
                $record = ConvertTo-BmsErrorRecord -Code 'module.certificate_not_exportable' -Category PermissionDenied -Message "The private key of certificate $CertificateThumbprint cannot be exported for bms2intune ($($_.Exception.Message)); use -CertificatePath with the .pfx file, a client secret or a managed identity."
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $pfx = [System.Convert]::ToBase64String($bytes)
            $pfxPassword = ConvertTo-BmsSecureString -Text $plainPassword
            $plainPassword = $null
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

        # Rebuilt on every (re)connect, so plain-text secrets live only for the request. The closure
        # cannot see the module's private functions (GetNewClosure binds it to a new module), hence
        # the inline SecureString conversion.
        $auth = switch ($set) {
            'ClientSecret' { 'client_secret' }
            'Credential' { 'client_secret' }
            'CertificateThumbprint' { 'certificate' }
            'CertificatePath' { 'certificate' }
            'ManagedIdentity' { 'managed_identity' }
            default { 'access_token' }
        }
        $buildParams = {
            $p = [ordered]@{}
            $p['auth'] = $auth
            if ($tenant) { $p['tenant_id'] = $tenant }
            if ($client) { $p['client_id'] = $client }
            if ($auth -eq 'client_secret') { $p['client_secret'] = (New-Object System.Management.Automation.PSCredential -ArgumentList 'bms2intune', $secret).GetNetworkCredential().Password }
            if ($auth -eq 'certificate') {
                $p['certificate_pfx'] = $pfx
                if ($pfxPassword) { $p['certificate_password'] = (New-Object System.Management.Automation.PSCredential -ArgumentList 'bms2intune', $pfxPassword).GetNetworkCredential().Password }
            }
            if ($auth -eq 'access_token') { $p['access_token'] = (New-Object System.Management.Automation.PSCredential -ArgumentList 'bms2intune', $token).GetNetworkCredential().Password }
            if ($cloud) { $p['cloud'] = $cloud }
            $p
        }.GetNewClosure()

        try {
            $result = Invoke-BmsRpc -Command 'connect' -Params (& $buildParams) -Sensitive
        } catch {
            throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature 'Connecting to Microsoft Graph')
        }
        $script:BmsGraphConnect = $buildParams
        [pscustomobject][ordered]@{
            PSTypeName  = 'Bms2Intune.GraphConnection'
            TenantId    = $result.tenant_id
            Auth        = $result.auth
            ClientId    = $result.client_id
            ExpiresOn   = $result.expires_on
            Permissions = ConvertTo-BmsArray $result.permissions
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
