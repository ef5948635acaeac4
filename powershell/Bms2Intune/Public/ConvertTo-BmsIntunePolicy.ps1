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

    Outputs one Bms2Intune.IntuneObject per object written: its display name, Graph type,
    platform, API version (v1.0, or beta for email profiles), the file holding the request body
    and the BMS policy it comes from. Conversion warnings and the number of settings that do not
    carry over one-to-one go to the warning stream; the mapping report has every setting.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER AndroidTarget
    device-admin (Android device administrator, what BMS used) or work-profile (Android
    Enterprise work profile; device administrator is unsupported on Google devices since the end
    of 2024).

    .PARAMETER NamePrefix
    A prefix for every Intune object's display name, for tenants with a naming convention.

    .PARAMETER TestGroup
    Test (pilot) groups, by display name or object id: every object also gets a pilot assignment
    body that assigns it to these groups only. Accepts group objects (DisplayName) through the
    pipeline.

    .EXAMPLE
    ConvertTo-BmsIntunePolicy -Workspace .\work -AndroidTarget work-profile -NamePrefix 'Contoso '

    Converts the policies for Android work profile and names the objects 'Contoso <policy>_O365_A'
    and so on.

    .EXAMPLE
    ConvertTo-BmsIntunePolicy -Workspace .\work | Group-Object OdataType | Select-Object Count, Name

    Counts the generated Intune objects by Graph type.

    .EXAMPLE
    ConvertTo-BmsIntunePolicy -Workspace .\work -TestGroup 'BMS Pilot'

    Also writes, for every object, the assignment to the pilot group used before the policy gate.

    .INPUTS
    Objects with a DisplayName (groups) for -TestGroup.

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
        [string] $NamePrefix,

        [Parameter(ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('DisplayName')]
        [ValidateNotNullOrEmpty()]
        [string[]] $TestGroup
    )
    begin {
        $testGroups = New-Object System.Collections.Generic.List[string]
    }
    process {
        foreach ($g in $TestGroup) { if (-not $testGroups.Contains($g)) { $testGroups.Add($g) } }
    }
    end {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $params = [ordered]@{}
            $params['workspace'] = $ws
            if ($AndroidTarget) { $params['android_target'] = $AndroidTarget }
            if ($PSBoundParameters.ContainsKey('NamePrefix')) { $params['name_prefix'] = $NamePrefix }
            if ($testGroups.Count -gt 0) { $params['test_groups'] = $testGroups.ToArray() }
            $result = Invoke-BmsRpc -Command 'convert' -Params $params

            foreach ($w in (ConvertTo-BmsArray $result.warnings)) {
                $about = ''
                if ($w.policy) { $about = " $($w.policy):" }
                Write-Warning -Message ('[{0}]{1} {2}' -f $w.code, $about, $w.message)
            }
            if ($result.rows_with_loss -gt 0) {
                Write-Warning -Message "$($result.rows_with_loss) BMS setting(s) do not carry over one-to-one; see $($result.mapping_report_csv) in the workspace."
            }
            $intune = Join-Path -Path $ws -ChildPath 'intune'
            foreach ($o in (ConvertTo-BmsArray $result.objects)) {
                [pscustomobject][ordered]@{
                    PSTypeName   = 'Bms2Intune.IntuneObject'
                    DisplayName  = $o.display_name
                    OdataType    = $o.odata_type
                    Platform     = $o.platform
                    Api          = $o.api
                    SourcePolicy = $o.source_policy
                    File         = Join-Path -Path $intune -ChildPath $o.file
                }
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
