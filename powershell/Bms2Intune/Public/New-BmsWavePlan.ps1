function New-BmsWavePlan {
    <#
    .SYNOPSIS
    Plans the license waves: the pilot (test) group first, then waves bounded by Intune seats and size.

    .DESCRIPTION
    Builds the migration schedule from the readiness-checked snapshot and writes plan.json,
    plan.csv and plan.xlsx into the workspace. Wave 0 is the pilot group; then the step that
    assigns the Intune policies to their recommended groups; then waves 1..n, each at most
    -WaveSize users (and -MaxDevices devices) and never more than the free Intune seats. Users who
    cannot be licensed yet are held back with the reason, never dropped. With -FromEdited, an
    admin's edited plan workbook is validated against the same rules and becomes the plan.

    Outputs one Bms2Intune.Wave per wave (number, date, users, devices by platform, license
    group). A warning summarises the users held back; Export-BmsWavePlan gives the full plan.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER PilotGroup
    Display name(s) of the pilot (test) group(s) for wave 0. Accepts group objects (DisplayName)
    through the pipeline, e.g. from Get-MgGroup.

    .PARAMETER NoPilot
    Plan without a pilot wave (not recommended).

    .PARAMETER WaveSize
    Maximum users per wave.

    .PARAMETER MaxDevices
    Maximum devices per wave.

    .PARAMETER KeepTogether
    Keep users sharing this key in one wave where it fits: group, department, office or manager.

    .PARAMETER Order
    Values of the -KeepTogether key to plan first, in this order (e.g. department names).

    .PARAMETER Start
    Date of the pilot wave.

    .PARAMETER Every
    Days between waves.

    .PARAMETER SoakDays
    Days to wait after the pilot before wave 1.

    .PARAMETER SkipUnsupported
    Hold back users all of whose devices Intune does not support.

    .PARAMETER FromEdited
    An edited plan workbook (.xlsx) or CSV to validate and adopt as the plan.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -PilotGroup 'BMS Pilot' -WaveSize 200 -KeepTogether department -Start 2026-12-01 -Every 7 -SoakDays 14

    Plans the 'BMS Pilot' group on 1 December 2026, then, after two weeks of soak time, waves of
    at most 200 users a week apart, keeping departments together.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -NoPilot -MaxDevices 500 -KeepTogether department -Order Sales, Finance -SkipUnsupported

    Plans without a pilot (not recommended), at most 500 devices per wave, Sales then Finance
    first, holding back users whose devices Intune does not support.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -FromEdited .\plan-edited.xlsx

    Adopts the admin's edited plan after checking it against the same rules; the change report
    comes as warnings.

    .INPUTS
    Objects with a DisplayName (groups) for -PilotGroup.

    .OUTPUTS
    Bms2Intune.Wave

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Plan')]
    [OutputType('Bms2Intune.Wave')]
    param(
        [string] $Workspace,

        [Parameter(ParameterSetName = 'Plan', ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('DisplayName')]
        [ValidateNotNullOrEmpty()]
        [string[]] $PilotGroup,

        [Parameter(ParameterSetName = 'Plan')]
        [switch] $NoPilot,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 10000000)]
        [int] $WaveSize,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 10000000)]
        [int] $MaxDevices,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateSet('group', 'department', 'office', 'manager')]
        [string] $KeepTogether,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateNotNullOrEmpty()]
        [string[]] $Order,

        [Parameter(ParameterSetName = 'Plan')]
        [datetime] $Start,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 365)]
        [int] $Every,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(0, 365)]
        [int] $SoakDays,

        [Parameter(ParameterSetName = 'Plan')]
        [switch] $SkipUnsupported,

        [Parameter(Mandatory, ParameterSetName = 'FromEdited')]
        [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
        [string] $FromEdited
    )
    begin {
        $pilots = New-Object System.Collections.Generic.List[string]
    }
    process {
        foreach ($g in $PilotGroup) { if (-not $pilots.Contains($g)) { $pilots.Add($g) } }
    }
    end {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $params = [ordered]@{}
            $params['workspace'] = $ws
            if ($PSCmdlet.ParameterSetName -eq 'FromEdited') {
                $params['from_edited'] = Resolve-BmsPath -Path $FromEdited
            } else {
                if ($pilots.Count -gt 0) { $params['pilot_groups'] = $pilots.ToArray() }
                if ($NoPilot) { $params['no_pilot'] = $true }
                if ($PSBoundParameters.ContainsKey('WaveSize')) { $params['wave_size'] = $WaveSize }
                if ($PSBoundParameters.ContainsKey('MaxDevices')) { $params['max_devices'] = $MaxDevices }
                if ($KeepTogether) { $params['keep_together'] = $KeepTogether }
                if ($Order) { $params['order'] = @($Order) }
                if ($PSBoundParameters.ContainsKey('Start')) { $params['start'] = $Start.ToString('yyyy-MM-dd', [System.Globalization.CultureInfo]::InvariantCulture) }
                if ($PSBoundParameters.ContainsKey('Every')) { $params['every'] = $Every }
                if ($PSBoundParameters.ContainsKey('SoakDays')) { $params['soak_days'] = $SoakDays }
                if ($SkipUnsupported) { $params['skip_unsupported'] = $true }
            }
            if (-not $PSCmdlet.ShouldProcess($ws, 'Write the wave plan (plan.json, plan.csv, plan.xlsx)')) { return }
            $result = Invoke-BmsRpc -Command 'plan' -Params $params

            $heldBack = ConvertTo-BmsArray $result.held_back
            if ($heldBack.Count -gt 0) {
                $reasons = ($heldBack | Group-Object -Property code | Sort-Object -Property Name | ForEach-Object { '{0}: {1}' -f $_.Name, $_.Count }) -join ', '
                Write-Warning -Message "$($heldBack.Count) user(s) held back ($reasons); see plan.csv in the workspace or Export-BmsWavePlan."
            }
            foreach ($w in (ConvertTo-BmsArray $result.waves)) {
                $users = ConvertTo-BmsArray $w.users
                $d = $w.devices
                [pscustomobject][ordered]@{
                    PSTypeName   = 'Bms2Intune.Wave'
                    Number       = [int]$w.number
                    Pilot        = [bool]$w.pilot
                    Date         = $w.date
                    LicenseGroup = $w.group
                    UserCount    = $users.Count
                    Ios          = $d.ios
                    Android      = $d.android
                    Windows      = $d.windows
                    Users        = $users
                    Workspace    = $ws
                }
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
