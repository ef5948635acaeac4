function ConvertTo-BmsIntunePolicy {
    <#
    .SYNOPSIS
    Converts the imported BMS device security policies into Intune-ready Microsoft Graph JSON.

    .DESCRIPTION
    Turns each imported BMS policy into Intune compliance policies and configuration profiles per
    platform (iOS/iPadOS, Android, Windows 10/11), email profiles, and recommended assignments, as
    Graph request bodies in the workspace (intune/compliance, intune/configuration,
    intune/assignments, intune/manifest.json) plus a mapping report (intune/mapping-report.json
    and .csv) that says for every setting how it was carried over.

    Outputs one Bms2Intune.IntuneObject per object listed in intune/manifest.json: its display
    name, Graph type, API version, the file holding the body, the BMS policy it comes from and
    the groups it is recommended for.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER AndroidTarget
    device-admin (Android device administrator, what BMS used) or work-profile (Android
    Enterprise work profile; device administrator is unsupported on Google devices since the end
    of 2024).

    .PARAMETER NamePrefix
    A prefix for every Intune object's display name, for tenants with a naming convention.

    .EXAMPLE
    ConvertTo-BmsIntunePolicy -Workspace .\work -AndroidTarget work-profile -NamePrefix 'Contoso '

    Converts the policies for Android work profile and names the objects 'Contoso <policy>_O365_A'
    and so on.

    .EXAMPLE
    ConvertTo-BmsIntunePolicy -Workspace .\work | Group-Object OdataType | Select-Object Count, Name

    Counts the generated Intune objects by Graph type.

    .INPUTS
    None.

    .OUTPUTS
    Bms2Intune.IntuneObject

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding()]
    [OutputType('Bms2Intune.IntuneObject')]
    param(
        [string] $Workspace,

        [ValidateSet('device-admin', 'work-profile')]
        [string] $AndroidTarget,

        [ValidateNotNullOrEmpty()]
        [string] $NamePrefix
    )
    try {
        $ws = Resolve-BmsWorkspace -Workspace $Workspace
        $params = [ordered]@{}
        $params['workspace'] = $ws
        if ($AndroidTarget) { $params['android_target'] = $AndroidTarget }
        if ($PSBoundParameters.ContainsKey('NamePrefix')) { $params['name_prefix'] = $NamePrefix }
        $null = Invoke-BmsRpc -Command 'convert' -Params $params

        # The manifest is the workspace contract of convert (see docs/powershell.md).
        $manifestPath = Join-Path -Path (Join-Path -Path $ws -ChildPath 'intune') -ChildPath 'manifest.json'
        $manifest = Get-Content -LiteralPath $manifestPath -Raw -Encoding UTF8 | ConvertFrom-Json
        foreach ($o in (ConvertTo-BmsArray $manifest.objects)) {
            $groups = foreach ($g in (ConvertTo-BmsArray $o.recommendedGroups)) {
                if ($g.displayName) { $g.displayName } else { $g.id }
            }
            [pscustomobject][ordered]@{
                PSTypeName        = 'Bms2Intune.IntuneObject'
                DisplayName       = $o.displayName
                OdataType         = $o.odataType
                Api               = $o.api
                Method            = $o.method
                GraphPath         = $o.path
                File              = Join-Path -Path (Join-Path -Path $ws -ChildPath 'intune') -ChildPath $o.file
                SourcePolicy      = $o.sourcePolicy
                AssignFile        = $o.assignFile
                RecommendedGroups = @($groups)
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
