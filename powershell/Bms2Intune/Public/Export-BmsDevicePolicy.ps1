function Export-BmsDevicePolicy {
    <#
    .SYNOPSIS
    Exports the tenant's BMS device security policies from Security & Compliance PowerShell to the JSON file bms2intune imports.

    .DESCRIPTION
    In a session connected with Connect-IPPSSession (ExchangeOnlineManagement module), calls
    Get-DeviceConditionalAccessPolicy, Get-DeviceConditionalAccessRule,
    Get-DeviceConfigurationPolicy, Get-DeviceConfigurationRule and, when the session has it,
    Get-DeviceTenantRule, and writes them as one policy bundle:

        {"bms2intune":"bms-policies","version":1,
         "DeviceConditionalAccessPolicy":[...],"DeviceConditionalAccessRule":[...],
         "DeviceConfigurationPolicy":[...],"DeviceConfigurationRule":[...],"DeviceTenantRule":[...]}

    Each array holds the objects as ConvertTo-Json gives them (every property, TargetGroups as
    group GUIDs), without the remoting properties PSComputerName, RunspaceId and
    PSShowComputerName. The file is UTF-8 without BOM. This cmdlet does not need the bms2intune
    binary; Import-BmsTenantData reads the file.

    Outputs a Bms2Intune.PolicyExport object with the file path and the counts, which can be piped
    to Import-BmsTenantData.

    .PARAMETER Path
    The JSON file to write.

    .PARAMETER Force
    Overwrite the file if it exists.

    .EXAMPLE
    Export-BmsDevicePolicy -Path .\policies.json

    Writes every BMS policy and rule of the connected tenant to .\policies.json.

    .EXAMPLE
    Connect-IPPSSession -UserPrincipalName admin@contoso.onmicrosoft.com; Export-BmsDevicePolicy -Path .\policies.json -Force | Import-BmsTenantData -As policies -Add -Workspace .\work

    Connects to Security & Compliance PowerShell, exports the policies (overwriting an older
    export) and adds them to the workspace's snapshot.

    .INPUTS
    None.

    .OUTPUTS
    Bms2Intune.PolicyExport

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('Bms2Intune.PolicyExport')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [switch] $Force
    )
    try {
        $required = @('Get-DeviceConditionalAccessPolicy', 'Get-DeviceConditionalAccessRule', 'Get-DeviceConfigurationPolicy', 'Get-DeviceConfigurationRule')
        $missing = @($required | Where-Object { -not (Get-Command -Name $_ -ErrorAction SilentlyContinue) })
        if ($missing.Count -gt 0) {
            $record = ConvertTo-BmsErrorRecord -Code 'module.compliance_not_connected' -Category ConnectionError -Message "This session has no $($missing -join ', '). Connect to Security & Compliance PowerShell first: Import-Module ExchangeOnlineManagement; Connect-IPPSSession -UserPrincipalName <admin UPN>."
            $PSCmdlet.ThrowTerminatingError($record)
        }
        $full = Resolve-BmsPath -Path $Path
        if ((Test-Path -LiteralPath $full) -and -not $Force) {
            $record = ConvertTo-BmsErrorRecord -Code 'module.file_exists' -Category ResourceExists -Message "'$full' exists; use -Force to overwrite it." -Details @([pscustomobject]@{ file = $full })
            $PSCmdlet.ThrowTerminatingError($record)
        }
        $remoting = @('PSComputerName', 'RunspaceId', 'PSShowComputerName')
        $bundle = [ordered]@{ bms2intune = 'bms-policies'; version = 1 }
        $kinds = @('DeviceConditionalAccessPolicy', 'DeviceConditionalAccessRule', 'DeviceConfigurationPolicy', 'DeviceConfigurationRule', 'DeviceTenantRule')
        foreach ($kind in $kinds) {
            $getter = "Get-$kind"
            if (-not (Get-Command -Name $getter -ErrorAction SilentlyContinue)) {
                Write-Verbose -Message "$getter is not available in this session; $kind is left empty."
                $bundle[$kind] = @()
                continue
            }
            Write-Verbose -Message "Reading $kind objects ($getter)."
            $items = @(& $getter -ErrorAction Stop | Select-Object -Property * -ExcludeProperty $remoting)
            $bundle[$kind] = $items
        }
        # -Depth 7: each object keeps the depth `Get-<cmdlet> | ConvertTo-Json -Depth 5` gives it inside the bundle.
        $json = ConvertTo-Json -InputObject $bundle -Depth 7
        if ($PSCmdlet.ShouldProcess($full, 'Write BMS policy bundle')) {
            $parent = Split-Path -Path $full -Parent
            if ($parent -and -not (Test-Path -LiteralPath $parent)) {
                $null = New-Item -ItemType Directory -Path $parent -Force
            }
            [System.IO.File]::WriteAllText($full, $json + "`n", (New-Object System.Text.UTF8Encoding -ArgumentList $false))
            [pscustomobject][ordered]@{
                PSTypeName                = 'Bms2Intune.PolicyExport'
                Path                      = $full
                ConditionalAccessPolicies = @($bundle['DeviceConditionalAccessPolicy']).Count
                ConditionalAccessRules    = @($bundle['DeviceConditionalAccessRule']).Count
                ConfigurationPolicies     = @($bundle['DeviceConfigurationPolicy']).Count
                ConfigurationRules        = @($bundle['DeviceConfigurationRule']).Count
                TenantRules               = @($bundle['DeviceTenantRule']).Count
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
